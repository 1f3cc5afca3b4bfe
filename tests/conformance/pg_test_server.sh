#!/usr/bin/env bash
# A private PostgreSQL server for the tests, never the system's service:
# its own data directory and its own Unix socket directory under DIR, no TCP
# listener at all (so build trees never compete for a port), trust
# authentication on that socket only, superuser `parley`, database `parley`.
#
#   pg_test_server.sh start DIR     initdb DIR/data (afresh) and start it
#   pg_test_server.sh stop DIR      stop the server of DIR by its pid
#   pg_test_server.sh restart DIR   start it again on the same data
#   pg_test_server.sh stop-all DIR  stop every server under DIR
#   pg_test_server.sh url DIR       print the connection URL
#
# initdb and postgres refuse to run as root: as root, they run as the
# `postgres` user that Debian's package creates, and DIR's server files
# belong to it.
set -euo pipefail

# Debian's PostgreSQL 15 (scripts/install-deps.sh --test).
bin=${PARLEY_PG_BIN:-/usr/lib/postgresql/15/bin}
# How long the server may take to start or stop.
readonly kWaitSeconds=60
# The socket's name is .s.PGSQL.<port>: the port only names the socket here.
readonly kPort=5432

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop|restart|stop-all|url DIR" >&2; exit 2; }
dir=$(realpath -m "$dir")

as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || {
    echo "pg_test_server: running as root needs the 'postgres' user (Debian's postgresql package)" >&2
    exit 1
  }
  as_owner=(runuser -u postgres --)
fi

url() {
  echo "postgresql:///parley?host=$dir/socket&port=$kPort&user=parley"
}

# The pid of DIR's running server, or nothing.
server_pid() {
  local pidfile=$dir/data/postmaster.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(head -n1 "$pidfile")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

stop() {
  local pid deadline
  pid=$(server_pid)
  [[ -n "$pid" ]] || return 0
  kill -INT "$pid"  # fast shutdown: clients are disconnected, the data stays consistent
  deadline=$((SECONDS + kWaitSeconds))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "pg_test_server: server $pid did not stop in ${kWaitSeconds}s" >&2
      exit 1
    fi
    sleep 0.05
  done
}

launch() {
  # pg_ctl -w returns once the server accepts connections (or fails).
  "${as_owner[@]}" "$bin/pg_ctl" start -D "$dir/data" -w -t "$kWaitSeconds" -s \
    -l "$dir/server.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir/socket' -p $kPort" ||
    { cat "$dir/server.log" >&2; exit 1; }
}

start() {
  stop
  rm -rf "$dir"
  mkdir -p "$dir/socket"
  # A Unix socket path is limited to 107 bytes.
  local socket_path="$dir/socket/.s.PGSQL.$kPort"
  if ((${#socket_path} > 100)); then
    echo "pg_test_server: $socket_path is too long for a Unix socket; use a shorter build dir" >&2
    exit 1
  fi
  if ((${#as_owner[@]})); then chown -R postgres: "$dir"; fi
  chmod 700 "$dir/socket"
  "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U parley --auth=trust --no-sync \
    --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  launch
  "$bin/psql" -X -q -d "postgresql:///postgres?host=$dir/socket&port=$kPort&user=parley" \
    -c "CREATE DATABASE parley" >/dev/null
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) [[ -n "$(server_pid)" ]] || launch ;;
  stop-all)
    for data in "$dir"/*/data "$dir"/data; do
      if [[ -d "$data" ]]; then "$0" stop "$(dirname "$data")"; fi
    done
    ;;
  url) url ;;
  *) echo "usage: $0 start|stop|restart|stop-all|url DIR" >&2; exit 2 ;;
esac
