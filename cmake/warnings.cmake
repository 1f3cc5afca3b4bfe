# Warnings for every Parley target; -Werror when PARLEY_WERROR is on (CI).
add_library(parley_warnings INTERFACE)
target_compile_options(parley_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(PARLEY_WERROR)
  target_compile_options(parley_warnings INTERFACE -Werror)
endif()
