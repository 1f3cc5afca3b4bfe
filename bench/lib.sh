#!/usr/bin/env bash
# Shared helpers for the wrk benchmarks: start parleyd on a temporary
# database, register users with curl, run wrk, stop the server by pid.
# Sourced by bench/messages.sh and bench/health.sh.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-64}"
WRK_DURATION="${WRK_DURATION:-10s}"

bench_require() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "bench: $cmd is required (scripts/install-deps.sh --test)" >&2; exit 1; }
  done
}

# $PARLEYD, else the release build, else the default build.
bench_find_parleyd() {
  if [[ -n "${PARLEYD:-}" ]]; then
    PARLEYD_BIN="$PARLEYD"
  elif [[ -x "$BENCH_ROOT/build/release/src/app/parleyd" ]]; then
    PARLEYD_BIN="$BENCH_ROOT/build/release/src/app/parleyd"
  else
    PARLEYD_BIN="$BENCH_ROOT/build/src/app/parleyd"
  fi
  [[ -x "$PARLEYD_BIN" ]] || { echo "bench: no parleyd at $PARLEYD_BIN (build first, or set PARLEYD)" >&2; exit 1; }
  # Report how it was built: the optimisation flags from the build tree, when there is one.
  local tree opt=""
  tree="$(cd "$(dirname "$PARLEYD_BIN")/../.." 2>/dev/null && pwd || true)"
  if [[ -n "$tree" && -f "$tree/compile_commands.json" ]]; then
    opt="$(grep -o -- ' -O[0-3sg]' "$tree/compile_commands.json" | sort -u | tr -d '\n' || true)"
  fi
  echo "parleyd: $PARLEYD_BIN (compiled with:${opt:- unknown flags})"
  echo "load average before the run: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) cores"
}

bench_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'
  fi
}

# Starts parleyd in a fresh temporary directory; sets BENCH_DIR, SERVER_PID, BASE_URL.
bench_start_server() {
  BENCH_DIR="$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-XXXXXX")"
  local port="${BENCH_PORT:-$(bench_free_port)}"
  BASE_URL="http://127.0.0.1:$port"
  (
    cd "$BENCH_DIR" &&
      exec env -u REDIS_URL -u MONGO_URI \
        HOST=127.0.0.1 PORT="$port" \
        DATABASE_URL="sqlite:$BENCH_DIR/parley.db" \
        JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef" \
        RATE_LIMIT_DISABLED=1 LOG_LEVEL=warn BCRYPT_ROUNDS=4 \
        "$PARLEYD_BIN" >"$BENCH_DIR/parleyd.log" 2>&1
  ) &
  SERVER_PID=$!
  trap bench_cleanup EXIT
  local deadline=$((SECONDS + 15))
  until curl -fsS -o /dev/null "$BASE_URL/api/health" 2>/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "bench: parleyd exited during start:" >&2; cat "$BENCH_DIR/parleyd.log" >&2; exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "bench: parleyd did not answer /api/health within 15 s" >&2; exit 1
    fi
    sleep 0.1
  done
  echo "server: pid $SERVER_PID on $BASE_URL, database $BENCH_DIR/parley.db"
}

# Stops the server we started (by pid): SIGTERM, then SIGKILL after 10 s.
bench_stop_server() {
  [[ -n "${SERVER_PID:-}" ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$SERVER_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "bench: parleyd $SERVER_PID did not stop on SIGTERM; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

bench_cleanup() {
  bench_stop_server
  if [[ -n "${BENCH_DIR:-}" && -d "$BENCH_DIR" && "${BENCH_KEEP_TMP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; fi
}

# Registers a user; sets REG_TOKEN and REG_ID.
bench_register() {
  local name="$1" email="$2" out
  out="$(curl -fsS -X POST "$BASE_URL/api/auth/register" -H 'Content-Type: application/json' \
    --data "{\"name\":\"$name\",\"email\":\"$email\",\"password\":\"bench password 123\"}")" ||
    { echo "bench: registering $email failed" >&2; exit 1; }
  REG_TOKEN="$(printf '%s' "$out" | grep -o '"token":"[^"]*"' | cut -d'"' -f4)"
  REG_ID="$(printf '%s' "$out" | grep -o '"_id":"[0-9a-f]\{24\}"' | head -n1 | cut -d'"' -f4)"
  [[ -n "$REG_TOKEN" && -n "$REG_ID" ]] || { echo "bench: unexpected register answer: $out" >&2; exit 1; }
}

# bench_wrk <title> <wrk args...>: runs wrk and prints its report plus a summary line.
bench_wrk() {
  local title="$1"; shift
  local cmd=(wrk "-t$WRK_THREADS" "-c$WRK_CONNECTIONS" "-d$WRK_DURATION" --latency "$@")
  echo
  echo "=== $title"
  printf '$ %s\n' "$(printf '%q ' "${cmd[@]}")" | sed -E 's/(Bearer\\ )[A-Za-z0-9._-]+/\1$TOKEN/'
  local out
  out="$("${cmd[@]}" 2>&1)" || { echo "$out"; echo "bench: wrk failed" >&2; return 1; }
  echo "$out"
  local rps p50 p90 p99
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p90="$(awk '$1=="90%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  printf 'SUMMARY %-40s %12s req/s   p50 %-9s p90 %-9s p99 %s\n' "$title" "$rps" "$p50" "$p90" "$p99"
  SUMMARIES+=("$(printf '%-40s %12s req/s   p50 %-9s p90 %-9s p99 %s' "$title" "$rps" "$p50" "$p90" "$p99")")
}
SUMMARIES=()
