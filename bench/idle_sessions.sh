#!/usr/bin/env bash
# Server memory per idle Socket.IO session (WebSocket and long-polling).
# Usage: bench/idle_sessions.sh   (SESSIONS=10000 POLLING_SESSIONS=2000)
set -euo pipefail
cd "$(dirname "$0")/.."
PARLEYD="${PARLEYD:-$PWD/build/release/src/app/parleyd}"
[[ -x "$PARLEYD" ]] || PARLEYD="$PWD/build/src/app/parleyd"
export PARLEYD
ulimit -n 20000
echo "parleyd: $PARLEYD"
exec node bench/idle_sessions.mjs
