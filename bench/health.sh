#!/usr/bin/env bash
# Benchmark of GET /api/health and an authenticated GET /api/users with wrk
# (not a test). Starts parleyd ($PARLEYD, else build/release/src/app/parleyd,
# else build/src/app/parleyd) on a temporary SQLite database with
# RATE_LIMIT_DISABLED=1 LOG_LEVEL=warn BCRYPT_ROUNDS=4, registers
# BENCH_USERS (50) users so that the list answers a full default page of 49,
# and stops the server by pid.
# Settings: WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_DURATION (10s),
# BENCH_USERS (50), BENCH_PORT (a free port), BENCH_KEEP_TMP=1.
# Usage: bench/health.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_require wrk curl
bench_find_parleyd
bench_start_server

users="${BENCH_USERS:-50}"
for ((i = 1; i <= users; i++)); do
  bench_register "Bench User $i" "user$i@bench.example"
done
TOKEN="$REG_TOKEN"
list="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/users")"
echo "GET /api/users: $(printf '%s' "$list" | grep -o '"_id"' | wc -l) users, $(printf '%s' "$list" | wc -c) bytes"

bench_wrk "GET /api/health" "$BASE_URL/api/health"
bench_wrk "GET /api/users (authenticated)" -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/users"

bench_stop_server
echo
echo "=== summary"
printf '%s\n' "${SUMMARIES[@]}"
