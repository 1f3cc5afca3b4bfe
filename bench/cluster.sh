#!/usr/bin/env bash
# parley-bench through the topology of docs/deploy.md on this machine: three
# parleyd nodes on a private PostgreSQL and a private Redis, behind nginx
# with deploy/nginx/parley.conf rendered onto free loopback ports (the
# pieces of tests/cluster/lib/cluster.mjs). Smaller topologies, to separate
# the costs, with the options below. Each run starts everything afresh
# (new database, new Redis, new nginx), runs
#
#   parley-bench pairs --pairs 100 --window 16 --duration 8 --warmup 2 \
#     --url <nginx> --server-pid <first node>
#
# (or the parley-bench arguments after --), reads the CPU time of every
# parleyd, redis-server, PostgreSQL (the postmaster and all its children),
# nginx (master and workers) and parley-bench from /proc/PID/stat once a
# second, and stops everything by pid. The CPU figures cover parley-bench's
# measured interval, from its first to its last "measure" progress line,
# and are divided by the messages acked in those seconds. Each node's
# parley_eio_sessions (/metrics) shows how nginx spread the clients.
#
# Usage: bench/cluster.sh [--runs N] [--nodes N] [--store pg|sqlite]
#                         [--redis|--no-redis] [--nginx|--no-nginx]
#                         [--perf FILE] [-- parley-bench arguments]
#   --runs N          runs, back to back [1]
#   --nodes N         parleyd nodes, 1 to 3 [3]
#   --store S         pg (a private PostgreSQL 15) or sqlite (one node only) [pg]
#   --no-redis        no REDIS_URL (one node only); --redis with one node sets it
#   --no-nginx        parley-bench straight to the (one) node
#   --perf FILE       the first node runs under
#                     `perf record -e cpu-clock -F 499 -g -o FILE`
#                     (one run; FILE gets the run number appended with --runs > 1)
#
# The defaults are the three-node topology. The other runs of
# docs/benchmarks.md ("Three nodes behind nginx"):
#   bench/cluster.sh --runs 3 --nodes 1 --store sqlite --no-nginx
#   bench/cluster.sh --runs 3 --nodes 1 --no-nginx
#   bench/cluster.sh --runs 3 --nodes 1 --no-redis
#   bench/cluster.sh --runs 3 --nodes 1 --redis
#
# Every node: docs/deploy.md's settings (DATABASE_URL, PG_POOL_SIZE=4,
# REDIS_URL, REDIS_PREFIX, one JWT_SECRET, NODE_ENV=production,
# TRUST_PROXY=true behind nginx, HOST/PORT on loopback) plus the benchmark's
# BCRYPT_ROUNDS=4 RATE_LIMIT_DISABLED=1 LOG_LEVEL=warn
# MAX_CONNECTIONS_PER_IP=100000 MAX_SOCKETS_PER_USER=1000; THREADS and
# CPU_THREADS at their defaults (the machine's cores, for every node).
#
# Binaries: $PARLEYD and $PARLEY_BENCH, else build/release. Needs node,
# nginx, redis-server and PostgreSQL 15 (scripts/install-deps.sh --test),
# and perf for --perf. Results (one JSON per run: the topology, pids, load
# average before the run, parley-bench's JSON and progress, per-process CPU,
# each node's /metrics, exit statuses) go to
# build/bench-results/cluster-<UTC time>/, which git ignores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

runs=1
perf=""
args=()
bench_args=()
while (($#)); do
  case "$1" in
    --runs) (($# >= 2)) || { echo "bench/cluster.sh: --runs needs a value" >&2; exit 2; }; runs="$2"; shift ;;
    --perf) (($# >= 2)) || { echo "bench/cluster.sh: --perf needs a file" >&2; exit 2; }; perf="$(realpath -m "$2")"; shift ;;
    --nodes | --store) (($# >= 2)) || { echo "bench/cluster.sh: $1 needs a value" >&2; exit 2; }; args+=("$1" "$2"); shift ;;
    --redis | --no-redis | --nginx | --no-nginx) args+=("$1") ;;
    --) shift; bench_args=(-- "$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "bench/cluster.sh: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench/cluster.sh: --runs must be a positive number" >&2; exit 2; }

export PARLEYD="${PARLEYD:-$ROOT/build/release/src/app/parleyd}"
export PARLEY_BENCH="${PARLEY_BENCH:-$ROOT/build/release/bench/parley-bench/parley-bench}"
[[ -x "$PARLEYD" ]] || { echo "bench/cluster.sh: no parleyd at $PARLEYD (build it, or set PARLEYD)" >&2; exit 1; }
[[ -x "$PARLEY_BENCH" ]] || { echo "bench/cluster.sh: no parley-bench at $PARLEY_BENCH (build it, or set PARLEY_BENCH)" >&2; exit 1; }
for cmd in node "${PARLEY_NGINX:-/usr/sbin/nginx}" "${REDIS_SERVER:-/usr/bin/redis-server}" /usr/lib/postgresql/15/bin/postgres; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "bench/cluster.sh: $cmd is required (scripts/install-deps.sh --test)" >&2; exit 1; }
done
if [[ -n "$perf" ]]; then command -v "${PERF:-perf}" >/dev/null 2>&1 || { echo "bench/cluster.sh: perf is required for --perf" >&2; exit 1; }; fi

results="$ROOT/build/bench-results/cluster-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$results"
echo "bench/cluster.sh: parleyd $PARLEYD"
echo "bench/cluster.sh: parley-bench $PARLEY_BENCH"
echo "bench/cluster.sh: $(nproc) cores, results in ${results#"$ROOT"/}"

status=0
summaries=()
for ((run = 1; run <= runs; run++)); do
  perf_args=()
  if [[ -n "$perf" ]]; then
    if ((runs > 1)); then perf_args=(--perf "$perf.$run"); else perf_args=(--perf "$perf"); fi
  fi
  # The test helpers it imports register a node:test hook; its report goes nowhere.
  if line="$(node --test-reporter=tap --test-reporter-destination=/dev/null "$ROOT/bench/cluster.mjs" \
    --out "$results/run-$run.json" "${args[@]}" "${perf_args[@]}" "${bench_args[@]}")"; then
    :
  else
    status=1
    line="FAILED (see $results/run-$run.json) $line"
  fi
  echo "run $run: $line"
  summaries+=("run $run: $line")
done

echo
echo "bench/cluster.sh: ${#summaries[@]} run(s), JSON in ${results#"$ROOT"/}"
printf '%s\n' "${summaries[@]}"
exit "$status"
