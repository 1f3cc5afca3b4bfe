#!/usr/bin/env bash
# Installs the Debian 12 packages Parley's build, tests and benchmarks need.
# Idempotent: does nothing when everything is present; runs `apt-get update`
# only when something is missing.
# Usage: scripts/install-deps.sh [--web] [--test] [--fuzz] [--bench]
#   --web    also what building the web client needs (Node.js and npm)
#   --test   also what the tests, lint and the wrk benchmarks need
#   --fuzz   also what the libFuzzer build needs (scripts/fuzz.sh)
#   --bench  also what bench/run needs: the Node.js baseline, its report
#            step (python3) and the charts (gnuplot)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config ccache
  libboost-dev libssl-dev libsqlite3-dev libcrypt-dev
  libspdlog-dev libfmt-dev rapidjson-dev libexpected-dev
  libpq-dev libhiredis-dev libjemalloc-dev
)
# postgresql: the conformance suite starts a private server of its own
# (tests/conformance/pg_test_server.sh), never the system's service.
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev nodejs npm sqlite3 strace wrk
  clang clang-format clang-tidy curl redis-server postgresql
  # chromium: the web client's browser tests (playwright-core drives it; no
  # browser is downloaded).
  chromium
  # nginx: the cluster test runs its own (its own configuration, prefix and
  # port), never the system's service, which is not started on install.
  nginx
)
# libFuzzer and the sanitizer runtimes ship in libclang-rt-14-dev, which a
# --no-install-recommends install of clang leaves out on Debian 12.
fuzz_pkgs=(clang libclang-rt-14-dev)
web_pkgs=(nodejs npm)
# gnuplot-nox: the charts need only the PNG terminals, not X11.
bench_pkgs=(nodejs npm curl python3 gnuplot-nox)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --web) want+=("${web_pkgs[@]}") ;;
    --test) want+=("${test_pkgs[@]}") ;;
    --fuzz) want+=("${fuzz_pkgs[@]}") ;;
    --bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "usage: $0 [--web] [--test] [--fuzz] [--bench]" >&2; exit 2 ;;
  esac
done

missing=()
declare -A seen=()
for p in "${want[@]}"; do
  # --test and --bench share packages: check each once.
  [[ -n "${seen[$p]:-}" ]] && continue
  seen[$p]=1
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from outside Debian's packages; accept the commands.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then exit 0; fi

echo "installing: ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# Debian starts a service as it installs it (nginx on port 80, redis-server,
# postgresql). The tests run private servers of their own; a policy-rc.d
# that refuses every start keeps the system's from starting, and is removed
# again. One already in place (containers have one) is left alone.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  trap '"${sudo_cmd[@]}" rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# scripts/install-deps.sh: no service starts while it installs\nexit 101\n' |
    "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
