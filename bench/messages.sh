#!/usr/bin/env bash
# Benchmark of the message routes with wrk (not a test):
#   1. POST /api/messages/send (bench/send.lua: unique text per request)
#   2. GET /api/messages/<peerId> (default limit 50) on the conversation filled by 1.
#   3. GET /api/messages/<peerId>?limit=20
# Starts parleyd ($PARLEYD, else build/release/src/app/parleyd, else
# build/src/app/parleyd) on a temporary SQLite database with
# RATE_LIMIT_DISABLED=1 LOG_LEVEL=warn BCRYPT_ROUNDS=4, and stops it by pid.
# Settings: WRK_THREADS (2), WRK_CONNECTIONS (64), WRK_DURATION (10s),
# BENCH_PORT (a free port), BENCH_KEEP_TMP=1 keeps the temporary directory.
# Usage: bench/messages.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_require wrk curl
bench_find_parleyd
bench_start_server

bench_register "Bench Sender" "sender@bench.example"
SENDER_TOKEN="$REG_TOKEN"
SENDER_ID="$REG_ID"
bench_register "Bench Peer" "peer@bench.example"
PEER_ID="$REG_ID"

TOKEN="$SENDER_TOKEN" PEER="$PEER_ID" \
  bench_wrk "POST /api/messages/send" -s "$(dirname "${BASH_SOURCE[0]}")/send.lua" "$BASE_URL/api/messages/send"

# How many messages the send run stored (the conversation's last seq).
conv="$(curl -fsS -H "Authorization: Bearer $SENDER_TOKEN" "$BASE_URL/api/conversations")"
stored="$(printf '%s' "$conv" | grep -o '"seq":[0-9]*' | head -n1 | cut -d: -f2)"
echo "messages stored by the send run: ${stored:-0} (last seq of the conversation)"
[[ -n "$stored" && "$stored" -ge 50 ]] || { echo "bench: the send run stored too few messages for the history runs" >&2; exit 1; }

# Sanity check of the history answers before measuring them.
page="$(curl -fsS -H "Authorization: Bearer $SENDER_TOKEN" "$BASE_URL/api/messages/$PEER_ID")"
echo "GET /api/messages/<peerId>: $(printf '%s' "$page" | grep -o '"_id"' | wc -l) messages, $(printf '%s' "$page" | wc -c) bytes"
page20="$(curl -fsS -H "Authorization: Bearer $SENDER_TOKEN" "$BASE_URL/api/messages/$PEER_ID?limit=20")"
echo "GET /api/messages/<peerId>?limit=20: $(printf '%s' "$page20" | grep -o '"_id"' | wc -l) messages, $(printf '%s' "$page20" | wc -c) bytes"

bench_wrk "GET /api/messages/:peerId (limit 50)" -H "Authorization: Bearer $SENDER_TOKEN" "$BASE_URL/api/messages/$PEER_ID"
bench_wrk "GET /api/messages/:peerId?limit=20" -H "Authorization: Bearer $SENDER_TOKEN" "$BASE_URL/api/messages/$PEER_ID?limit=20"

bench_stop_server
echo
echo "=== summary (sender $SENDER_ID, peer $PEER_ID)"
printf '%s\n' "${SUMMARIES[@]}"
