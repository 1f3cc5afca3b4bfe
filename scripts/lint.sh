#!/usr/bin/env bash
# clang-tidy over every source file (the server's and parley-bench's),
# using build/test's compile database.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/test/compile_commands.json ]] ||
  cmake -S . -B build/test -G Ninja -DPARLEY_WERROR=ON -DPARLEY_TESTS=ON >/dev/null
# RapidJSON's member iterators trip clang's C++20 reversed-operator warning,
# which the CI build's -Werror would turn into an error: not our code.
git ls-files -- 'src/*.cpp' 'bench/parley-bench/*.cpp' |
  xargs -r -P2 -n4 clang-tidy -p build/test --quiet --extra-arg=-Wno-ambiguous-reversed-operator
