#!/usr/bin/env bash
# Installs the npm packages the end-to-end tests use (tests/package.json,
# pinned by tests/package-lock.json). Does nothing when they are present.
set -euo pipefail
cd "$(dirname "$0")/../tests"
[[ -f package.json ]] || exit 0
if [[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]]; then exit 0; fi
npm ci --no-audit --no-fund --loglevel=error
