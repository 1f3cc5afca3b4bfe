#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) with clang in
# build/fuzz, the whole tree instrumented for coverage, ASan and UBSan
# (cmake/fuzz.cmake). Each target first runs once over its seeds in
# tests/fuzz/corpus/<target>/, where every seed must be accepted (except
# those named invalid-*), then is fuzzed for a fixed number of inputs
# (FUZZ_RUNS, default 200000) from that corpus. Fails on a rejected seed or
# any crash, leak, timeout or broken property, printing the fuzzer's report;
# the input that did it is saved under build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${FUZZ_RUNS:-200000}"
targets=()
for src in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$src" .cpp)"); done

scripts/install-deps.sh --fuzz
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
  if ((${#seeds[@]} == 0)); then
    echo "$target: no seeds in tests/fuzz/corpus/$target" >&2
    exit 1
  fi
  if ! PARLEY_FUZZ_SEED_CHECK=1 "$bin" "${seeds[@]}" >"$log" 2>&1; then
    echo "$target: a seed is rejected or crashes (the last one named here):" >&2
    grep -E '^Running: ' "$log" | tail -n 1 >&2
    tail -n 30 "$log" >&2
    exit 1
  fi

  work="build/fuzz/corpus-$target"
  mkdir -p "$work"
  echo "fuzzing $target for $runs runs"
  if ! "$bin" -runs="$runs" -max_len=4096 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$target-" \
      "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "$target: crashed; report in $log, input in build/fuzz/artifacts/" >&2
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || true
done
