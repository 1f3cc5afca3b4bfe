#!/usr/bin/env bash
# The private redis-server the conformance tests share: a ctest fixture
# (redis.start / redis.stop in tests/CMakeLists.txt), never the system's.
#   redis_fixture.sh start DIR REDIS_SERVER
#     starts REDIS_SERVER on a free loopback port, in the foreground of a
#     background job, with DIR as its directory and no persistence; writes
#     DIR/url (redis://127.0.0.1:PORT) once it answers, and DIR/pid.
#   redis_fixture.sh stop DIR
#     stops the server DIR/pid names (only if it is a redis-server).
# Each build tree has its own DIR, and ports are picked at random and
# retried, so two trees (or two engineers) can run their tests at once.
set -euo pipefail

readonly start_deadline_seconds=10
readonly stop_deadline_seconds=10
readonly port_attempts=20

cmd="${1:-}"
dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start DIR REDIS_SERVER | stop DIR" >&2; exit 2; }

# kill -0 also succeeds for a child that exited but was not yet reaped.
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ -n "$state" && "$state" != Z ]]
}

stop_server() {
  [[ -f "$dir/pid" ]] || return 0
  local pid
  pid=$(<"$dir/pid")
  rm -f "$dir/pid" "$dir/url"
  # A stale pid file must not make us signal some unrelated process.
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == redis-server ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + stop_deadline_seconds))
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
}

# True once the server on $1 answers and is the process $2 (not another
# Redis that already held the port).
answers_as() {
  local info
  info=$(redis-cli -h 127.0.0.1 -p "$1" info server 2>/dev/null) || return 1
  [[ "$info" == *"process_id:$2"* ]]
}

case "$cmd" in
  start)
    server="${3:?redis-server path missing}"
    command -v redis-cli >/dev/null || { echo "redis-cli is missing (Debian: redis-tools)" >&2; exit 1; }
    mkdir -p "$dir"
    stop_server
    for ((attempt = 1; attempt <= port_attempts; attempt++)); do
      port=$((20000 + RANDOM % 30000))
      "$server" --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
        --daemonize no --protected-mode yes --logfile "$dir/redis.log" \
        </dev/null >/dev/null 2>&1 &
      pid=$!
      deadline=$((SECONDS + start_deadline_seconds))
      while alive "$pid" && ((SECONDS < deadline)); do
        if answers_as "$port" "$pid"; then
          echo "$pid" >"$dir/pid"
          echo "redis://127.0.0.1:$port" >"$dir/url"
          echo "redis-server pid $pid on port $port ($dir)"
          exit 0
        fi
        sleep 0.05
      done
      # Port taken (the server exited) or no answer in time: another port.
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    done
    echo "could not start $server after $port_attempts ports; see $dir/redis.log" >&2
    exit 1
    ;;
  stop)
    stop_server
    ;;
  *)
    echo "usage: $0 start DIR REDIS_SERVER | stop DIR" >&2
    exit 2
    ;;
esac
