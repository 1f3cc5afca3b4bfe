// The control: with parley_chat's include directories the store interface
// and core are visible.
#include "core/error.hpp"
#include "store/store.hpp"
