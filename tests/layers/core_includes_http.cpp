// Must not compile with parley_core's include directories: core is a leaf
// and cannot see the HTTP layer. tests/CMakeLists.txt checks the error.
#include "http/server.hpp"
