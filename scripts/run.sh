#!/usr/bin/env bash
# Installs what is missing, builds parleyd (Release) and starts it on
# http://localhost:4000 with its SQLite database under ./data/.
# Settings come from the environment or ./.env (see .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARLEY_TESTS=OFF >/dev/null
cmake --build build/release --target parleyd
exec build/release/src/app/parleyd "$@"
