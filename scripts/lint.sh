#!/usr/bin/env bash
# clang-tidy over every source file, using build/test's compile database.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/test/compile_commands.json ]] ||
  cmake -S . -B build/test -G Ninja -DPARLEY_WERROR=ON -DPARLEY_TESTS=ON >/dev/null
git ls-files -- 'src/*.cpp' | xargs -r -P2 -n4 clang-tidy -p build/test --quiet
