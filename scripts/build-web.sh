#!/usr/bin/env bash
# Builds the web client (web/) into a directory parleyd serves (WEB_ROOT):
# installs web/'s npm packages from web/package-lock.json (npm ci, skipped
# while the lock file is unchanged), runs the client's unit tests (web/test,
# node:test on the pure state logic compiled by tsc), type-checks, runs the
# Vite build and prints the JavaScript's gzip size (the build fails over its
# budget). ctest's web.build runs this, so the unit tests run there too.
#   scripts/build-web.sh [OUT]   default OUT: web/dist
# Node.js and npm are needed to build the client only; parleyd serves the
# built files and never runs Node.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(realpath -m "${1:-web/dist}")"
cd web
stamp=node_modules/.parley-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
npm run --silent test -- --test-reporter=dot
PARLEY_WEB_OUT="$out" npm run --silent build
