#!/usr/bin/env bash
# Installs what is missing, builds parleyd (Release) and the web client, and
# starts it on http://localhost:4000 (open it in a browser) with its SQLite
# database under ./data/. The client is built beside the binary
# (build/release/src/app/web), where parleyd finds it when WEB_ROOT is unset.
# Settings come from the environment or ./.env (see .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --web
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARLEY_TESTS=OFF >/dev/null
cmake --build build/release --target parleyd
scripts/build-web.sh build/release/src/app/web
exec build/release/src/app/parleyd "$@"
