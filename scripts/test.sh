#!/usr/bin/env bash
# Installs what is missing, builds Parley with warnings as errors and runs
# every test (unit, conformance, integration, browser and the cluster test:
# every ctest label) through ctest.
#   scripts/test.sh              optimised build in build/test
#   scripts/test.sh --sanitize   ASan + UBSan build in build/asan
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
scripts/install-deps.sh --test
scripts/install-test-node-deps.sh

if [[ "$mode" == "--sanitize" ]]; then
  dir=build/asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=ON)
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
else
  dir=build/test
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
  scripts/check-format.sh
fi

cmake -S . -B "$dir" -G Ninja -DPARLEY_WERROR=ON -DPARLEY_TESTS=ON "${flags[@]}" >/dev/null
cmake --build "$dir"
ctest --test-dir "$dir" --output-on-failure -j2
