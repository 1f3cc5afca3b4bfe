// A real cluster on this machine for the cluster tests: a private
// PostgreSQL (tests/conformance/pg_test_server.sh: its own data directory
// and Unix socket), a private redis-server, three parleyd nodes sharing
// them, and nginx in front rendered from deploy/nginx/parley.conf (the
// configuration docs/deploy.md describes), all on free loopback ports under
// temporary directories. Everything is started here and stopped by pid.
//
// The nodes are started through tests/integration/lib/server.mjs, so its
// checks hold: every node's exit status is asserted when it is stopped,
// killed or left running at the end of the file, and sanitizer reports in
// a node's stderr fail the file.

import { spawn, spawnSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, freePort, waitFor, request, REPO_ROOT } from '../../integration/lib/server.mjs';

export const NGINX = process.env.PARLEY_NGINX || '/usr/sbin/nginx';
export const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';
export const NGINX_TEMPLATE = path.join(REPO_ROOT, 'deploy', 'nginx', 'parley.conf');
const PG_SCRIPT = path.join(REPO_ROOT, 'tests', 'conformance', 'pg_test_server.sh');

/** The cookie nginx routes by (deploy/nginx/parley.conf). */
export const ROUTE_COOKIE = 'parley_node';

const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 20_000;

// Children of this file (nginx, redis-server) still running when the test
// process exits are killed by pid; PostgreSQL is stopped by its script.
const children = new Set();
const pgDirs = new Set();
process.on('exit', () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  for (const dir of pgDirs) spawnSync(PG_SCRIPT, ['stop', dir], { stdio: 'ignore' });
});

function exitOf(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function deadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed: ${what}`)), ms); }),
  ]);
}

function runScript(args) {
  const r = spawnSync(PG_SCRIPT, args, { encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) throw new Error(`${PG_SCRIPT} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

// Without blocking the event loop (the clients of a test keep running).
async function runScriptAsync(args) {
  try {
    await promisify(execFile)(PG_SCRIPT, args, { timeout: 90_000 });
  } catch (e) {
    throw new Error(`${PG_SCRIPT} ${args.join(' ')} failed: ${e.message}${e.stderr ?? ''}`);
  }
}

// ------------------------------------------------------------ PostgreSQL ----

/** A private PostgreSQL server (Unix socket only); stop() and start() keep its data. */
export function startPostgres() {
  const dir = makeTempDir('parley-pg-');
  pgDirs.add(dir);
  runScript(['start', dir]);
  return {
    dir,
    url: runScript(['url', dir]),
    /** Fast shutdown by pid (clients disconnected, data consistent). */
    stop() { return runScriptAsync(['stop', dir]); },
    /** Starts it again on the same data directory and socket. */
    start() { return runScriptAsync(['restart', dir]); },
  };
}

// ----------------------------------------------------------------- Redis ----

/** A private redis-server on `port` (no persistence); resolves once it accepts connections. */
export function startRedis(port, dir) {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), START_DEADLINE_MS);
    child.stdout.on('data', () => {
      if (/Ready to accept connections/.test(out)) { clearTimeout(timer); resolve(child); }
    });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`redis-server exited (${code ?? signal}): ${out}`)); });
  });
}

/** Sends `signal` to a redis-server started here and waits for its exit. */
export async function stopRedis(child, signal = 'SIGTERM') {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  return deadline(exitOf(child), STOP_DEADLINE_MS, `redis-server ${child.pid} to exit`);
}

// ----------------------------------------------------------------- nginx ----

/**
 * deploy/nginx/parley.conf with the addresses of its `# @node` lines and
 * the port of its `# @listen` line replaced; nothing else changes.
 */
export function renderNginxConf(template, { listenPort, nodePorts }) {
  const lines = template.split('\n');
  const nodeLines = lines.filter((l) => /#\s*@node\s*$/.test(l));
  const listenLines = lines.filter((l) => /#\s*@listen\s*$/.test(l));
  assert.equal(nodeLines.length, nodePorts.length, `${NGINX_TEMPLATE} must have one "# @node" line per node`);
  assert.equal(listenLines.length, 1, `${NGINX_TEMPLATE} must have one "# @listen" line`);
  let node = 0;
  return lines.map((l) => {
    if (/#\s*@node\s*$/.test(l)) {
      assert.match(l, /server\s+[0-9.]+:\d+/, `cannot render ${l}`);
      const out = l.replace(/server\s+[0-9.]+:\d+/, `server 127.0.0.1:${nodePorts[node]}`);
      node += 1;
      return out;
    }
    if (/#\s*@listen\s*$/.test(l)) {
      assert.match(l, /listen\s+[0-9.]+:\d+/, `cannot render ${l}`);
      return l.replace(/listen\s+[0-9.]+:\d+/, `listen 127.0.0.1:${listenPort}`);
    }
    return l;
  }).join('\n');
}

/**
 * nginx in the foreground with its own prefix, configuration, pid file,
 * logs and temporary directories under `dir`, on `listenPort`.
 */
export async function startNginx({ dir, listenPort, nodePorts }) {
  for (const sub of ['logs', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  const site = renderNginxConf(fs.readFileSync(NGINX_TEMPLATE, 'utf8'), { listenPort, nodePorts });
  fs.writeFileSync(path.join(dir, 'parley.conf'), site);
  // The main configuration is what a system's nginx.conf holds; the site is included as is.
  fs.writeFileSync(path.join(dir, 'nginx.conf'), [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/logs/error.log info;`,
    'events { worker_connections 4096; }',
    'http {',
    `  access_log ${dir}/logs/access.log;`,
    `  client_body_temp_path ${dir}/tmp/body;`,
    `  proxy_temp_path ${dir}/tmp/proxy;`,
    `  fastcgi_temp_path ${dir}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${dir}/tmp/uwsgi;`,
    `  scgi_temp_path ${dir}/tmp/scgi;`,
    `  include ${dir}/parley.conf;`,
    '}',
    '',
  ].join('\n'));
  // Workers run as nobody when the master is root: they need the temp dirs.
  if (process.getuid() === 0) fs.chmodSync(dir, 0o755);
  const child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs', 'error.log')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = exitOf(child);
  const url = `http://127.0.0.1:${listenPort}`;
  const nginx = {
    url, port: listenPort, dir, proc: child, exited,
    get output() { return out; },
    errorLog() { return fs.readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8'); },
    /** Graceful stop (SIGQUIT); resolves with the exit code (0 expected). */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      const { code, signal } = await deadline(exited, STOP_DEADLINE_MS, `nginx ${child.pid} to exit`);
      return code ?? signal;
    },
  };
  await Promise.race([
    waitFor(async () => {
      try { return (await fetch(`${url}/api/health`)).status === 200; } catch { return false; }
    }, { timeoutMs: START_DEADLINE_MS, what: `nginx on port ${listenPort}` }),
    exited.then(({ code, signal }) => {
      throw new Error(`nginx exited (${code ?? signal}): ${out}\n${nginx.errorLog()}`);
    }),
  ]);
  return nginx;
}

// --------------------------------------------------------------- cluster ----

/**
 * Starts PostgreSQL, Redis, `nodes` parleyd sharing them, and nginx in
 * front. `env` is added to every node's environment.
 */
export async function startCluster({ nodes = 3, env = {} } = {}) {
  const pg = startPostgres();
  const redisDir = makeTempDir('parley-redis-');
  const redisPort = await freePort();
  let redis = await startRedis(redisPort, redisDir);
  const nodePorts = [];
  for (let i = 0; i < nodes; i += 1) nodePorts.push(await freePort());
  // One prefix for the cluster, apart from any other user of this Redis.
  const redisPrefix = `parley-cluster-${crypto.randomBytes(4).toString('hex')}:`;
  const nodeEnv = (i) => ({
    DATABASE_URL: pg.url,
    PG_POOL_SIZE: '2',
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    REDIS_PREFIX: redisPrefix,
    TRUST_PROXY: 'true',
    THREADS: '1',
    CPU_THREADS: '1',
    // The same port on a restart, which nginx's configuration names.
    PORT: String(nodePorts[i]),
    ...env,
  });
  // One after the other: the first creates the schema.
  const servers = [];
  for (let i = 0; i < nodes; i += 1) servers.push(await startServer({ env: nodeEnv(i) }));
  const nginx = await startNginx({ dir: makeTempDir('parley-nginx-'), listenPort: await freePort(), nodePorts });

  const routes = new Map();  // node index -> a route key nginx sends there

  const cluster = {
    pg, nginx, nodePorts,
    nodes: servers,
    get redis() { return redis; },
    get url() { return nginx.url; },
    redisUrl: `redis://127.0.0.1:${redisPort}`,

    /** Kills Redis (SIGKILL) and starts it again on the same port. */
    async killRedis() { await stopRedis(redis, 'SIGKILL'); },
    async startRedis() { redis = await startRedis(redisPort, redisDir); },

    /** Starts node `i` again (same port, same settings) after a stop or kill. */
    async restartNode(i) {
      assert.equal(servers[i].running, false, `node ${i} is still running`);
      servers[i] = await servers[i].restart();
      // nginx skips a node for fail_timeout after a refused connection:
      // wait until its route key reaches it again.
      if (routes.has(i)) {
        const key = routes.get(i);
        await waitFor(async () => (await cluster.nodeOf(key)) === i, { timeoutMs: 15_000, intervalMs: 200, what: `nginx sending node ${i}'s clients to it again` });
      }
      return servers[i];
    },

    /**
     * Which node nginx sends requests carrying route key `key` to: the
     * request id nginx gives a probe request comes back in its response and
     * is in the request log of the one node that served it.
     */
    async nodeOf(key) {
      const res = await request(nginx.url, '/api/health', { cookie: `${ROUTE_COOKIE}=${key}` });
      assert.equal(res.status, 200, res.text);
      const rid = res.headers.get('x-request-id');
      assert.match(rid ?? '', /^[0-9a-f]{32}$/, 'nginx passes its request id on');
      const i = await waitFor(() => {
        const hits = servers.map((s, n) => (s.running && s.stdout.text.includes(rid) ? n + 1 : 0)).filter(Boolean);
        assert.ok(hits.length <= 1, `request ${rid} logged by several nodes`);
        return hits[0];
      }, { timeoutMs: 5000, intervalMs: 10, what: `request ${rid} in a node's log` });
      return i - 1;
    },

    /** A route key (a cookie value as nginx hands out) that nginx sends to node `i`. */
    async routeTo(i) {
      if (routes.has(i)) return routes.get(i);
      for (let attempt = 0; attempt < 60; attempt += 1) {
        const key = crypto.randomBytes(16).toString('hex');
        const n = await cluster.nodeOf(key);
        if (!routes.has(n)) routes.set(n, key);
        if (n === i) return key;
      }
      throw new Error(`no route key reached node ${i} in 60 tries`);
    },

    /** socket.io-client options that send node `i`'s route cookie on every request. */
    async via(i) {
      return { extraHeaders: { cookie: `${ROUTE_COOKIE}=${await cluster.routeTo(i)}` } };
    },

    /** parley_eio_sessions of each node (null for a node that is down). */
    async sessionsPerNode() {
      return Promise.all(servers.map(async (s) => {
        if (!s.running) return null;
        const res = await request(s.url, '/metrics');
        assert.equal(res.status, 200);
        const m = res.text.match(/^parley_eio_sessions (\S+)$/m);
        assert.ok(m, 'parley_eio_sessions in /metrics');
        return Number(m[1]);
      }));
    },

    /** Waits until each node holds exactly `expected[i]` Engine.IO sessions. */
    async expectSessions(expected, timeoutMs = 10_000) {
      let last;
      try {
        await waitFor(async () => {
          last = await cluster.sessionsPerNode();
          return JSON.stringify(last) === JSON.stringify(expected);
        }, { timeoutMs, what: `sessions per node ${JSON.stringify(expected)}` });
      } catch (e) {
        throw new Error(`${e.message}; last seen ${JSON.stringify(last)}`);
      }
    },

    /** Each running node's /api/health body. */
    async health() {
      return Promise.all(servers.map(async (s) => (s.running ? (await request(s.url, '/api/health')).body : null)));
    },

    /**
     * Stops nginx (exit 0 asserted), every running node (SIGTERM, exit 0
     * asserted), Redis and PostgreSQL.
     */
    async stop() {
      const problems = [];
      const nginxExit = await nginx.stop();
      if (nginxExit !== 0) problems.push(`nginx exited ${nginxExit}: ${nginx.output}\n${nginx.errorLog().slice(-3000)}`);
      for (const s of servers) {
        if (s.running) {
          const code = await s.stop();
          if (code !== 0) problems.push(`parleyd on port ${s.port} exited ${code} after SIGTERM:\n${s.stderr.text.slice(-3000)}`);
        }
      }
      await stopRedis(redis);
      await pg.stop();
      if (problems.length > 0) throw new Error(problems.join('\n\n'));
    },
  };
  return cluster;
}
