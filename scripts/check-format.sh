#!/usr/bin/env bash
# Fails when a C++ file is not formatted per .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -- 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp' |
  xargs -r clang-format --dry-run -Werror
