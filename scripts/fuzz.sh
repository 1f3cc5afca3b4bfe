#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build/fuzz) and runs each for a
# fixed number of inputs (FUZZ_RUNS, default 200000), starting from the
# seed corpus in tests/fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${FUZZ_RUNS:-200000}"
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPARLEY_FUZZ=ON -DPARLEY_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER= >/dev/null
cmake --build build/fuzz --target engineio_payload_fuzz socketio_packet_fuzz
for target in engineio_payload_fuzz socketio_packet_fuzz; do
  work="build/fuzz/corpus-$target"
  mkdir -p "$work"
  echo "fuzzing $target for $runs runs"
  "build/fuzz/tests/fuzz/$target" -runs="$runs" -max_len=4096 -print_final_stats=1 \
    "$work" "tests/fuzz/corpus/$target" 2>&1 | tail -n 3
done
