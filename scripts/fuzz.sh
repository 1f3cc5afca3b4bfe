#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build/fuzz (the whole tree
# instrumented for coverage, ASan and UBSan: cmake/fuzz.cmake), runs each
# target once over its seeds in tests/fuzz/corpus/<target>/ (every seed
# must be accepted, except those named invalid-*), then fuzzes it for a
# fixed number of inputs (FUZZ_RUNS, default 200000) from that corpus.
# Fails on a rejected seed or any crash, printing the fuzzer's report; a
# crashing input is saved under build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(engineio_payload_fuzz socketio_packet_fuzz)
runs="${FUZZ_RUNS:-200000}"

CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPARLEY_FUZZ=ON -DPARLEY_TESTS=OFF >/dev/null
cmake --build build/fuzz --target "${targets[@]}"
mkdir -p build/fuzz/artifacts

for target in "${targets[@]}"; do
  bin="build/fuzz/tests/fuzz/$target"
  log="build/fuzz/$target.log"
  seeds=()
  for f in "tests/fuzz/corpus/$target"/*; do
    [[ "$(basename "$f")" == invalid-* ]] || seeds+=("$f")
  done
  if ! PARLEY_FUZZ_SEED_CHECK=1 "$bin" "${seeds[@]}" >"$log" 2>&1; then
    echo "$target: a seed is rejected or crashes (the last one named here):" >&2
    grep -E '^Running: ' "$log" | tail -n 1 >&2
    tail -n 30 "$log" >&2
    exit 1
  fi

  work="build/fuzz/corpus-$target"
  mkdir -p "$work"
  echo "fuzzing $target for $runs runs"
  if ! "$bin" -runs="$runs" -max_len=4096 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$target-" \
      "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "$target: crashed; report in $log, input in build/fuzz/artifacts/" >&2
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || true
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
done
