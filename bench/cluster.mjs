// One run of bench/cluster.sh: brings up a topology of docs/deploy.md on
// this machine, runs parley-bench through it, measures the CPU time of
// every process that serves the load, stops everything by pid and writes
// one JSON file. bench/cluster.sh runs it (several times) and prints the
// summary; run it through that script.
//
//   node bench/cluster.mjs --out FILE [--nodes N] [--store pg|sqlite]
//        [--redis | --no-redis] [--nginx | --no-nginx] [--perf FILE]
//        [-- parley-bench arguments]
//
// The pieces come from tests/cluster/lib/cluster.mjs, as the cluster test
// composes them: a private PostgreSQL (tests/conformance/pg_test_server.sh,
// Unix socket only), a private redis-server, nginx with
// deploy/nginx/parley.conf rendered onto free loopback ports. The nodes are
// started here rather than through the test harness because they run with
// LOG_LEVEL=warn (the harness waits for an info line) and one of them may
// run under perf.
//
// CPU: /proc/PID/stat (utime + stime, all threads) of each parleyd, of
// redis-server, of the PostgreSQL postmaster and all its children, of the
// nginx master and its workers, and of parley-bench, read each time
// parley-bench prints a progress line (once a second). The interval is
// from its first "measure" line to its last: the messages acked in it are
// the sum of the acked counts those lines report, so every process's CPU
// and the message count cover the same seconds of steady load.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import crypto from 'node:crypto';
import { startPostgres, startRedis, stopRedis, startNginx } from '../tests/cluster/lib/cluster.mjs';
import { makeTempDir, freePort, waitFor } from '../tests/integration/lib/server.mjs';

const PARLEYD = process.env.PARLEYD;
const PARLEY_BENCH = process.env.PARLEY_BENCH;
const PERF = process.env.PERF || 'perf';
// The template has one `# @node` line per node of docs/deploy.md's three.
const NGINX_NODE_LINES = 3;
const STOP_DEADLINE_MS = 30_000;

// --------------------------------------------------------------- options ----

function usage(msg) {
  if (msg) console.error(`bench/cluster.mjs: ${msg}`);
  console.error('usage: node bench/cluster.mjs --out FILE [--nodes N] [--store pg|sqlite] [--redis|--no-redis] [--nginx|--no-nginx] [--perf FILE] [-- parley-bench args]');
  process.exit(2);
}

const opt = { nodes: 3, store: 'pg', redis: null, nginx: true, perf: null, out: null, benchArgs: null };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 1) {
    const v = () => { if (i + 1 >= a.length) usage(`${a[i]} needs a value`); i += 1; return a[i]; };
    switch (a[i]) {
      case '--nodes': opt.nodes = Number(v()); break;
      case '--store': opt.store = v(); break;
      case '--redis': opt.redis = true; break;
      case '--no-redis': opt.redis = false; break;
      case '--nginx': opt.nginx = true; break;
      case '--no-nginx': opt.nginx = false; break;
      case '--perf': opt.perf = path.resolve(v()); break;
      case '--out': opt.out = path.resolve(v()); break;
      case '--': opt.benchArgs = a.slice(i + 1); i = a.length; break;
      default: usage(`unknown option ${a[i]}`);
    }
  }
}
if (!opt.out) usage('--out is required');
if (!PARLEYD || !PARLEY_BENCH) usage('PARLEYD and PARLEY_BENCH must name the binaries (bench/cluster.sh sets them)');
if (!Number.isInteger(opt.nodes) || opt.nodes < 1 || opt.nodes > NGINX_NODE_LINES) usage(`--nodes must be 1..${NGINX_NODE_LINES}`);
if (!['pg', 'sqlite'].includes(opt.store)) usage('--store must be pg or sqlite');
if (opt.redis === null) opt.redis = opt.nodes > 1;
if (opt.store === 'sqlite' && (opt.nodes > 1 || opt.redis)) usage('SQLite is for one node without Redis');
if (opt.nodes > 1 && (!opt.redis || !opt.nginx)) usage('several nodes need Redis and nginx');
opt.benchArgs ??= ['pairs', '--pairs', '100', '--window', '16', '--duration', '8', '--warmup', '2'];

// ------------------------------------------------------------- processes ----

const CLK_TCK = 100;  // USER_HZ: /proc reports utime and stime in these on Linux

function stat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(f[1]), cpuUs: (Number(f[11]) + Number(f[12])) * (1e6 / CLK_TCK) };
  } catch {
    return null;
  }
}

function childrenOf(pid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(name);
    if (s && s.ppid === pid) out.push(Number(name));
  }
  return out;
}

// CPU microseconds of each thread of `pid` now, summed by thread name.
function threadsOf(pid) {
  const out = {};
  let tids = [];
  try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    const s = stat(`${pid}/task/${tid}`);
    if (!s) continue;
    let name = '?';
    try { name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(); } catch { /* gone */ }
    out[name] = (out[name] ?? 0) + s.cpuUs;
  }
  return out;
}

// CPU microseconds of `pid` and, with `withChildren`, of its children now.
function cpuOf(pid, withChildren = false) {
  if (!pid) return null;
  let us = stat(pid)?.cpuUs ?? 0;
  if (withChildren) for (const c of childrenOf(pid)) us += stat(c)?.cpuUs ?? 0;
  return us;
}

const started = [];  // {name, proc} of every child started here, for the exit hook
process.on('exit', () => {
  for (const { proc, pid } of started) {
    if (proc.exitCode === null && proc.signalCode === null) {
      try { process.kill(pid ?? proc.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function exitOf(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode ?? proc.signalCode);
    else proc.once('exit', (code, signal) => resolve(code ?? signal));
  });
}

async function withDeadline(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no exit within ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

// One parleyd on `port`; under perf (which starts it) when `perfFile` is set.
async function startNode(i, port, env, perfFile) {
  const dir = makeTempDir(`parley-bench-node${i}-`);
  const log = fs.openSync(path.join(dir, 'parleyd.log'), 'w');
  const fullEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port) };
  if (opt.store === 'sqlite') fullEnv.DATABASE_URL = `sqlite:${dir}/parley.db`;
  const [cmd, args] = perfFile
    ? [PERF, ['record', '-e', 'cpu-clock', '-F', '499', '-g', '-o', perfFile, '--', PARLEYD]]
    : [PARLEYD, []];
  const proc = spawn(cmd, args, { cwd: dir, env: fullEnv, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const entry = { name: `node${i}`, proc, pid: null };
  started.push(entry);
  const url = `http://127.0.0.1:${port}`;
  const exited = exitOf(proc);
  await Promise.race([
    waitFor(async () => {
      try { return (await fetch(`${url}/api/health`)).status === 200; } catch { return false; }
    }, { timeoutMs: 30_000, intervalMs: 50, what: `parleyd on port ${port}` }),
    exited.then((c) => { throw new Error(`parleyd ${i} exited (${c}) while starting:\n${fs.readFileSync(path.join(dir, 'parleyd.log'), 'utf8')}`); }),
  ]);
  // Under perf the server is perf's child.
  let pid = proc.pid;
  if (perfFile) {
    const kids = childrenOf(proc.pid);
    if (kids.length !== 1) throw new Error(`perf ${proc.pid} has ${kids.length} children, expected parleyd`);
    [pid] = kids;
  }
  entry.pid = pid;
  return { i, port, url, dir, proc, pid, perfPid: perfFile ? proc.pid : null, exited };
}

// SIGTERM to parleyd itself (under perf too: perf then writes its file and
// exits with parleyd's status); resolves with the exit status.
async function stopNode(node) {
  try { process.kill(node.pid, 'SIGTERM'); } catch { /* gone */ }
  if (node.perfPid) {
    // perf's own exit status is parleyd's.
    return withDeadline(node.exited, STOP_DEADLINE_MS, `perf ${node.perfPid} (parleyd ${node.pid})`);
  }
  return withDeadline(node.exited, STOP_DEADLINE_MS, `parleyd ${node.pid}`);
}

async function metricsOf(node) {
  try {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const m = {};
    for (const line of text.split('\n')) {
      const r = /^(parley_[a-z_]+) (\S+)$/.exec(line);
      if (r) m[r[1]] = Number(r[2]);
    }
    return m;
  } catch (e) {
    return { error: String(e) };
  }
}

// ------------------------------------------------------------------- run ----

const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const result = {
  when: new Date().toISOString(),
  load_average_before: loadBefore,
  topology: { nodes: opt.nodes, store: opt.store, redis: opt.redis, nginx: opt.nginx, perf: opt.perf },
  parleyd: PARLEYD,
  parley_bench: PARLEY_BENCH,
};

const secret = crypto.randomBytes(32).toString('base64');
// docs/deploy.md's settings for every node, plus the benchmark's.
const env = {
  HOST: '127.0.0.1',
  JWT_SECRET: secret,
  NODE_ENV: 'production',
  BCRYPT_ROUNDS: '4',
  RATE_LIMIT_DISABLED: '1',
  LOG_LEVEL: 'warn',
  MAX_CONNECTIONS_PER_IP: '100000',
  MAX_SOCKETS_PER_USER: '1000',
};

let pg = null;
let redis = null;
let nginx = null;
const nodes = [];
let pgPid = null;

if (opt.store === 'pg') {
  pg = startPostgres();
  env.DATABASE_URL = pg.url;
  env.PG_POOL_SIZE = '4';
  pgPid = Number(fs.readFileSync(path.join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}
if (opt.redis) {
  const redisPort = await freePort();
  redis = await startRedis(redisPort, makeTempDir('parley-bench-redis-'));
  started.push({ name: 'redis', proc: redis });
  env.REDIS_URL = `redis://127.0.0.1:${redisPort}`;
  env.REDIS_PREFIX = `parley-bench-${crypto.randomBytes(4).toString('hex')}:`;
}
if (opt.nginx) env.TRUST_PROXY = 'true';

const nodePorts = [];
for (let i = 0; i < opt.nodes; i += 1) nodePorts.push(await freePort());
// One after the other: the first creates the schema.
for (let i = 0; i < opt.nodes; i += 1) {
  nodes.push(await startNode(i, nodePorts[i], env, i === 0 ? opt.perf : null));
}
if (opt.nginx) {
  // With fewer nodes than the template's lines, the remaining lines name
  // the nodes again (one node: all three lines name it).
  const lines = Array.from({ length: NGINX_NODE_LINES }, (_, k) => nodePorts[k % nodePorts.length]);
  nginx = await startNginx({ dir: makeTempDir('parley-bench-nginx-'), listenPort: await freePort(), nodePorts: lines });
  started.push({ name: 'nginx', proc: nginx.proc });
}
const url = nginx ? nginx.url : nodes[0].url;
result.url = url;
result.pids = {
  nodes: nodes.map((n) => n.pid), perf: nodes[0].perfPid, redis: redis?.pid ?? null,
  postgres: pgPid, nginx: nginx?.proc.pid ?? null,
};

// CPU of each group now (microseconds).
function sampleCpu(benchPid) {
  const s = { nodes: nodes.map((n) => cpuOf(n.pid)) };
  s.parleyd = s.nodes.reduce((a, b) => a + b, 0);
  s.node_threads = nodes.map((n) => threadsOf(n.pid));
  if (nodes[0].perfPid) s.perf = cpuOf(nodes[0].perfPid);
  if (redis) s.redis = cpuOf(redis.pid);
  if (pgPid) s.postgres = cpuOf(pgPid, true);
  if (nginx) s.nginx = cpuOf(nginx.proc.pid, true);
  s.parley_bench = cpuOf(benchPid);
  return s;
}

const benchCmd = [...opt.benchArgs, '--url', url, '--server-pid', String(nodes[0].pid)];
result.bench_command = [PARLEY_BENCH, ...benchCmd];
const bench = spawn(PARLEY_BENCH, benchCmd, { stdio: ['ignore', 'pipe', 'pipe'] });
started.push({ name: 'parley-bench', proc: bench });
let benchOut = '';
let benchErr = '';
const samples = [];  // one per progress line
const metricFetches = [];
bench.stdout.on('data', (d) => { benchOut += d; });
let partial = '';
bench.stderr.on('data', (d) => {
  const now = performance.now();
  partial += d;
  const lines = partial.split('\n');
  partial = lines.pop();
  for (const line of lines) {
    benchErr += `${line}\n`;
    const m = /^\[\s*([\d.]+)s\] (\w+)\s+sent\s+(\d+)\/s\s+acked\s+(\d+)\/s\s+\w+\s+(\d+)\/s/.exec(line);
    if (!m) continue;
    const sample = { t_ms: now, bench_s: Number(m[1]), phase: m[2], sent: Number(m[3]), acked: Number(m[4]), received: Number(m[5]), cpu: sampleCpu(bench.pid) };
    samples.push(sample);
    if (sample.phase === 'measure') {
      const p = Promise.all(nodes.map(metricsOf)).then((ms) => { sample.metrics = ms; });
      metricFetches.push(p);
    }
  }
});
const benchCode = await exitOf(bench);
await Promise.all(metricFetches);
result.bench_exit = benchCode;
result.bench_stderr = benchErr;
try { result.bench = JSON.parse(benchOut); } catch { result.bench = null; result.bench_stdout = benchOut; }
result.metrics_after = await Promise.all(nodes.map(metricsOf));

// The interval: first to last "measure" line.
const measure = samples.filter((s) => s.phase === 'measure');
if (measure.length >= 2) {
  const a = measure[0];
  const b = measure[measure.length - 1];
  const acked = measure.slice(1).reduce((n, s) => n + s.acked, 0);
  const received = measure.slice(1).reduce((n, s) => n + s.received, 0);
  const wallS = (b.t_ms - a.t_ms) / 1000;
  const cpu = {};
  for (const k of Object.keys(b.cpu)) {
    if (k === 'nodes' || k === 'node_threads') continue;
    cpu[k] = b.cpu[k] - a.cpu[k];
  }
  // parleyd's threads, summed over the nodes by name: microseconds per message.
  const threads = {};
  b.cpu.node_threads.forEach((t, n) => {
    for (const [name, us] of Object.entries(t)) threads[name] = (threads[name] ?? 0) + us - (a.cpu.node_threads[n][name] ?? 0);
  });
  cpu.nodes = b.cpu.nodes.map((v, k) => v - a.cpu.nodes[k]);
  const perMsg = {};
  const cores = {};
  for (const [k, v] of Object.entries(cpu)) {
    if (k === 'nodes') continue;
    perMsg[k] = v / acked;
    cores[k] = v / 1e6 / wallS;
  }
  perMsg.nodes = cpu.nodes.map((v) => v / acked);
  cores.nodes = cpu.nodes.map((v) => v / 1e6 / wallS);
  const sum = (ms, key) => ms.reduce((n, m) => n + (m?.[key] ?? 0), 0);
  const metricDelta = {};
  if (a.metrics && b.metrics) {
    for (const key of ['parley_broker_redis_published_total', 'parley_broker_redis_received_total',
      'parley_broker_redis_dropped_total', 'parley_store_commits_total', 'parley_store_writes_total',
      'parley_eio_slow_consumers_total']) {
      metricDelta[key] = sum(b.metrics, key) - sum(a.metrics, key);
    }
  }
  result.interval = {
    wall_s: wallS, acked, received, acked_per_s: acked / wallS,
    cpu_us: cpu, cpu_us_per_msg: perMsg, cores, metrics_delta: metricDelta,
    parleyd_threads_us_per_msg: Object.fromEntries(Object.entries(threads).filter(([, us]) => us > 0).map(([k, us]) => [k, us / acked])),
    metrics_delta_per_msg: Object.fromEntries(Object.entries(metricDelta).map(([k, v]) => [k, v / acked])),
  };
  result.sessions_per_node = (a.metrics ?? []).map((m) => m.parley_eio_sessions ?? null);
} else {
  result.interval = null;
}
result.samples = samples;

// Stop everything, by pid: nginx, the nodes, Redis, PostgreSQL.
const exits = {};
if (nginx) exits.nginx = await nginx.stop();
for (const n of nodes) exits[`node${n.i}`] = await stopNode(n);
if (redis) { await stopRedis(redis); exits.redis = redis.exitCode ?? redis.signalCode; }
if (pg) { await pg.stop(); exits.postgres = 'stopped'; }
result.exits = exits;
result.node_logs = nodes.map((n) => {
  const text = fs.readFileSync(path.join(n.dir, 'parleyd.log'), 'utf8');
  return text.length > 4000 ? text.slice(-4000) : text;
});
if (nginx) {
  const errLog = nginx.errorLog().split('\n').filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
  result.nginx_errors = errLog.slice(0, 20);
  result.nginx_error_count = errLog.length;
}

fs.writeFileSync(opt.out, `${JSON.stringify(result, null, 2)}\n`);

// One summary line.
const b = result.bench;
const iv = result.interval;
const f = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const topo = `${opt.nodes} node${opt.nodes > 1 ? 's' : ''} ${opt.store}${opt.redis ? '+redis' : ''}${opt.nginx ? '+nginx' : ''}`;
const parts = [
  topo.padEnd(24),
  `load ${loadBefore.join(' ')}`,
  `ok ${b?.ok ?? false}`,
  `acked/s ${f(b?.acked_per_s, 0)}`,
  `p50/p99 ${f(b?.receipt_latency_ms?.p50, 2)}/${f(b?.receipt_latency_ms?.p99, 2)} ms`,
  `lost ${b?.lost ?? '-'} dup ${b?.duplicated ?? '-'}`,
];
if (iv) {
  const u = iv.cpu_us_per_msg;
  parts.push(`us/msg parleyd ${f(u.parleyd)} [${u.nodes.map((x) => f(x)).join(' ')}]`);
  if (u.redis !== undefined) parts.push(`redis ${f(u.redis)}`);
  if (u.postgres !== undefined) parts.push(`pg ${f(u.postgres)}`);
  if (u.nginx !== undefined) parts.push(`nginx ${f(u.nginx)}`);
  if (u.perf !== undefined) parts.push(`perf ${f(u.perf)}`);
  parts.push(`bench ${f(u.parley_bench)}`);
  const total = Object.entries(iv.cores).filter(([k]) => k !== 'nodes').reduce((n, [, v]) => n + v, 0);
  parts.push(`cores ${f(total, 2)}`);
}
if (result.sessions_per_node) parts.push(`sessions ${result.sessions_per_node.join('/')}`);
console.log(parts.join(' | '));
process.exitCode = b?.ok && benchCode === 0 && Object.entries(exits).every(([k, v]) => k === 'postgres' || v === 0) ? 0 : 1;
