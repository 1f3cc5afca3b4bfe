// Must not compile with parley_chat's include directories: the domain sees
// the store interface, never an implementation.
#include "store/sqlite/sqlite_store.hpp"
