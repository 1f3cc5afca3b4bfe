// Test harness for the Parley integration tests: starts the real parleyd on an
// ephemeral port with a temporary SQLite database, and offers small HTTP and
// raw-socket helpers. Waits on conditions with deadlines, never fixed sleeps;
// stops only the processes it started, by pid.
//
// Every server started here is kept in a registry. stop(), kill(),
// waitExit() and runToExit() fail on sanitizer reports in the server's
// stderr, and once a test file is done a root-level after() hook stops
// every server still running with SIGTERM and fails unless each exits 0,
// no server died without a test collecting its exit status, and no stderr
// holds a sanitizer report.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import crypto from 'node:crypto';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const PARLEYD = process.env.PARLEYD || path.join(REPO_ROOT, 'build', 'src', 'app', 'parleyd');
export const TEST_SECRET = 'integration-test-secret-0123456789abcdef';
const LISTEN_RE = /listening on http:\/\/([^\s"]+):(\d+)/;
const START_DEADLINE_MS = 20_000;
// Generous: a sanitizer build checks for leaks on the way out.
const STOP_DEADLINE_MS = 20_000;

// What a server inherits from the test process: nothing but these. Every
// setting the server reads comes from the test's own `env`.
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'];

// Lines a sanitizer writes when it finds something.
const SANITIZER_RE = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|WARNING: ThreadSanitizer/;

/** The sanitizer report in `text` (from its first line on), or null. */
export function sanitizerReport(text) {
  const m = SANITIZER_RE.exec(text);
  if (!m) return null;
  const lineStart = text.lastIndexOf('\n', m.index) + 1;
  return text.slice(lineStart, lineStart + 6000);
}

// Every server started, running or not (see the file comment).
const servers = new Set();
const tempDirs = new Set();

// The last resort: a child still running when the test process exits is
// killed, by pid, and the temporary directories are removed (set
// PARLEY_KEEP_TMP=1 to keep them).
process.on('exit', () => {
  for (const rec of servers) {
    if (rec.running) {
      try { process.kill(rec.proc.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
  if (process.env.PARLEY_KEEP_TMP === '1') return;
  for (const dir of tempDirs) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});

function describeServer(rec) {
  return `parleyd ${rec.proc.pid}${rec.port ? ` (port ${rec.port})` : ''}`;
}

function stderrTail(rec) {
  return rec.stderr.text.slice(-3000);
}

/** Throws if the server's stderr holds a sanitizer report not yet reported. */
function checkSanitizers(rec) {
  if (rec.sanitizerReported) return;
  const report = sanitizerReport(rec.stderr.text);
  if (!report) return;
  rec.sanitizerReported = true;
  throw new Error(`sanitizer report in the stderr of ${describeServer(rec)}:\n${report}`);
}

// Registered once, after the test file's own top-level hooks (they were
// registered while the file's module body ran, before this callback), so
// that files stop their servers and close their clients first.
setImmediate(() => {
  after(async () => {
    const problems = [];
    for (const rec of servers) {
      if (rec.running) {
        try { process.kill(rec.proc.pid, 'SIGTERM'); } catch { /* gone */ }
        let result;
        try {
          result = await withDeadline(rec.exited, STOP_DEADLINE_MS, `${describeServer(rec)} to exit after SIGTERM`);
        } catch (e) {
          try { process.kill(rec.proc.pid, 'SIGKILL'); } catch { /* gone */ }
          await rec.exited;
          problems.push(`${e.message}; killed it. stderr:\n${stderrTail(rec)}`);
        }
        rec.collected = true;
        if (result && (result.code !== 0 || result.signal !== null)) {
          problems.push(`${describeServer(rec)}, still running when its tests were done, exited with code ${result.code}, signal ${result.signal} after SIGTERM (expected 0). stderr:\n${stderrTail(rec)}`);
        }
      } else if (!rec.collected) {
        const { code, signal } = await rec.exited;
        problems.push(`${describeServer(rec)} exited on its own (code ${code}, signal ${signal}) and no test collected its exit status. stderr:\n${stderrTail(rec)}`);
      }
      try { checkSanitizers(rec); } catch (e) { problems.push(e.message); }
    }
    if (problems.length > 0) throw new Error(problems.join('\n\n'));
  });
});

export function makeTempDir(prefix = 'parley-it-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function buildEnv(dir, env) {
  const base = {};
  for (const k of INHERITED_ENV) {
    if (process.env[k] !== undefined) base[k] = process.env[k];
  }
  const merged = {
    ...base,
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: `sqlite:${dir}/parley.db`,
    JWT_SECRET: TEST_SECRET,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'info',
    ...env,
  };
  // A value of undefined or null in `env` removes the variable.
  for (const [k, v] of Object.entries(merged)) {
    if (v === undefined || v === null) delete merged[k];
    else merged[k] = String(v);
  }
  return merged;
}

class Output {
  constructor(stream) {
    this.text = '';
    this.waiters = new Set();
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      this.text += chunk;
      for (const w of this.waiters) w();
    });
  }
  lines() { return this.text.split('\n').filter((l) => l.length > 0); }
  // Resolves with the match of `re` in the output, or rejects after the deadline.
  wait(re, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.text.match(re);
        if (m) { cleanup(); resolve(m); return true; }
        return false;
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${re} in output:\n${this.text}`)); }, timeoutMs);
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      if (!check()) this.waiters.add(check);
    });
  }
}

// Resolves {code, signal} once the process has exited and its stdout and
// stderr are closed (so that the whole of its output has been read).
function exitPromise(proc) {
  return new Promise((resolve) => { proc.once('close', (code, signal) => resolve({ code, signal })); });
}

/** Spawns parleyd and registers it; returns its record. */
function spawnServer(dir, env, args) {
  const proc = spawn(PARLEYD, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const rec = {
    proc,
    port: null,
    // Not exited (signals go only to a process that has not exited: after
    // that its pid may belong to someone else).
    get running() { return proc.exitCode === null && proc.signalCode === null; },
    collected: false,  // a caller got its exit status
    sanitizerReported: false,
    stdout: new Output(proc.stdout),
    stderr: new Output(proc.stderr),
  };
  rec.exited = exitPromise(proc);
  servers.add(rec);
  return rec;
}

function withDeadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed: ${what}`)), ms); }),
  ]);
}

/**
 * Starts parleyd. `cwd` (default: a fresh temp dir) is also where the SQLite
 * database lives, so starting again with the `dir` of a stopped server reuses
 * its database. Resolves once the server logs `listening on http://HOST:PORT`.
 */
export async function startServer({ env = {}, cwd, args = [] } = {}) {
  const dir = cwd ?? makeTempDir();
  const fullEnv = buildEnv(dir, env);
  const rec = spawnServer(dir, fullEnv, args);
  const { proc, stdout, stderr, exited } = rec;
  const spawnError = new Promise((_, reject) => proc.once('error', (e) => reject(new Error(`cannot start ${PARLEYD}: ${e.message}`))));

  let match;
  try {
    match = await Promise.race([
      stdout.wait(LISTEN_RE, START_DEADLINE_MS),
      spawnError,
      exited.then(({ code, signal }) => {
        throw new Error(`parleyd exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr.text}\nstdout:\n${stdout.text}`);
      }),
    ]);
  } catch (e) {
    if (rec.running) {
      try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await exited;
    rec.collected = true;  // the error carries what happened
    throw e;
  }
  let host = match[1];
  const port = Number(match[2]);
  rec.port = port;
  if (host === '0.0.0.0' || host === '::' || host === '[::]') host = '127.0.0.1';
  const url = `http://${host}:${port}`;

  // The exit status of a server that has exited, for a caller that asked for
  // it; fails on a sanitizer report in its stderr.
  const collect = ({ code, signal }) => {
    rec.collected = true;
    checkSanitizers(rec);
    return code ?? signal;
  };

  const server = {
    url, port, host, dir, proc, env: fullEnv,
    stdout, stderr,
    exited,
    get pid() { return proc.pid; },
    get running() { return rec.running; },
    /**
     * Sends `signal` (SIGTERM) and waits for the exit; resolves with the exit
     * code (a signal name if it died of one). Callers assert it (0 after
     * SIGTERM or SIGINT). If the server does not exit in time it is killed
     * and stop() rejects.
     */
    async stop(signal = 'SIGTERM') {
      if (rec.running) {
        try { process.kill(proc.pid, signal); } catch { /* gone */ }
      }
      let result;
      try {
        result = await withDeadline(exited, STOP_DEADLINE_MS, `parleyd ${proc.pid} exit after ${signal}`);
      } catch (e) {
        await server.kill();
        throw e;
      }
      return collect(result);
    },
    // Waits for the process to exit on its own (after a signal sent elsewhere).
    async waitExit(timeoutMs = STOP_DEADLINE_MS) {
      return collect(await withDeadline(exited, timeoutMs, `parleyd ${proc.pid} to exit`));
    },
    // SIGKILL (a crash on purpose); resolves with 'SIGKILL', or the exit code
    // if it had exited before.
    async kill() {
      if (rec.running) {
        try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
      }
      return collect(await exited);
    },
    // Starts a new server on the same working directory and database.
    restart(opts = {}) {
      return startServer({ env: opts.env ?? env, cwd: dir, args });
    },
  };
  return server;
}

/**
 * Runs parleyd expecting it to exit on its own (bad configuration). Resolves
 * with {code, signal, stdout, stderr, listened}. Kills it (by pid) if it is
 * still running after the deadline. Rejects on a sanitizer report.
 */
export async function runToExit({ env = {}, cwd, timeoutMs = 10_000 } = {}) {
  const dir = cwd ?? makeTempDir();
  const rec = spawnServer(dir, buildEnv(dir, env), []);
  let timedOut = false;
  const timer = setTimeout(() => {
    if (!rec.running) return;
    timedOut = true;
    try { process.kill(rec.proc.pid, 'SIGKILL'); } catch { /* gone */ }
  }, timeoutMs);
  const { code, signal } = await rec.exited;  // output fully read by then
  clearTimeout(timer);
  rec.collected = true;
  checkSanitizers(rec);
  return { code, signal, timedOut, dir, stdout: rec.stdout.text, stderr: rec.stderr.text, listened: LISTEN_RE.test(rec.stdout.text) };
}

// ---------------------------------------------------------------- HTTP ----

let emailCounter = 0;
export function uniqueEmail(tag = 'user') {
  emailCounter += 1;
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${emailCounter}-${crypto.randomBytes(3).toString('hex')}@example.com`;
}

/**
 * One HTTP request with fetch. `body` objects are sent as JSON; strings and
 * Buffers as they are. Returns {status, headers, body, text, cookies}.
 */
export async function request(url, pathname, { method = 'GET', body, token, cookie, headers = {}, contentType } = {}) {
  const h = { ...headers };
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      payload = body;
      if (contentType !== null) h['content-type'] = contentType ?? 'application/json';
    } else {
      payload = JSON.stringify(body);
      if (contentType !== null) h['content-type'] = contentType ?? 'application/json';
    }
  }
  if (token) h.authorization = `Bearer ${token}`;
  if (cookie) h.cookie = cookie;
  const res = await fetch(url + pathname, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  let parsed = text;
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('application/json') && text.length > 0) {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  return { status: res.status, headers: res.headers, body: parsed, text, cookies: res.headers.getSetCookie() };
}

export function register(url, { name = 'Test User', email = uniqueEmail(), password = 'correct horse battery' } = {}, opts = {}) {
  return request(url, '/api/auth/register', { method: 'POST', body: { name, email, password }, ...opts });
}

export function login(url, { email, password }, opts = {}) {
  return request(url, '/api/auth/login', { method: 'POST', body: { email, password }, ...opts });
}

/** Registers a user and asserts nothing; returns {user, token, email, password, res}. */
export async function newUser(url, fields = {}) {
  const email = fields.email ?? uniqueEmail(fields.tag ?? 'u');
  const password = fields.password ?? 'correct horse battery';
  const name = fields.name ?? 'Test User';
  const res = await register(url, { name, email, password });
  if (res.status !== 201) throw new Error(`register ${email} failed: ${res.status} ${res.text}`);
  return { user: res.body.user, token: res.body.token, email, password, name, res };
}

/** Parses a Set-Cookie header value into {name, value, attrs} with lower-cased attribute names. */
export function parseSetCookie(header) {
  const parts = header.split(';').map((p) => p.trim());
  const [nv, ...rest] = parts;
  const eq = nv.indexOf('=');
  const attrs = {};
  for (const p of rest) {
    if (!p) continue;
    const i = p.indexOf('=');
    if (i < 0) attrs[p.toLowerCase()] = true;
    else attrs[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim();
  }
  return { name: nv.slice(0, eq), value: nv.slice(eq + 1), attrs };
}

export function decodeJwt(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    signature: s,
  };
}

export function signJwt(header, payload, secret = TEST_SECRET, hmac = 'sha256') {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const s = crypto.createHmac(hmac, secret).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${s}`;
}

/**
 * What a strict lower bound on a server timer may be short by: Date.now() is
 * whole milliseconds of the wall clock, the server's timers run on the
 * monotonic clock.
 */
export const CLOCK_SLACK_MS = 5;

/**
 * `promise`, which a test awaits later (or races), marked as handled so that
 * a rejection before that await is not an unhandled rejection that kills
 * the test process. The rejection still reaches whoever awaits `promise`.
 */
export function awaitedLater(promise) {
  promise.catch(() => {});
  return promise;
}

/** Polls `fn` until it returns a truthy value; rejects after the deadline. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---------------------------------------------------------- raw sockets ----

/** Parses one HTTP/1.1 response at the start of `buf`; returns null if incomplete. */
export function parseResponse(buf, { closed = false, method = 'GET' } = {}) {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = buf.subarray(0, headEnd).toString('latin1');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const m = statusLine.match(/^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
  const status = Number(m[2]);
  const headers = {};
  const rawHeaders = [];
  for (const line of headerLines) {
    const i = line.indexOf(':');
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    rawHeaders.push([k, v]);
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  let pos = headEnd + 4;
  let body;
  const noBody = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) {
    body = Buffer.alloc(0);
  } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const pieces = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return null;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1').split(';')[0], 16);
      pos = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n', pos);
        if (trailerEnd < 0) return null;
        pos = trailerEnd + 2;
        break;
      }
      if (buf.length < pos + size + 2) return null;
      pieces.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
    body = Buffer.concat(pieces);
  } else if (headers['content-length'] !== undefined) {
    const len = Number(headers['content-length']);
    if (buf.length < pos + len) return null;
    body = buf.subarray(pos, pos + len);
    pos += len;
  } else {
    if (!closed) return null;
    body = buf.subarray(pos);
    pos = buf.length;
  }
  const text = body.toString('utf8');
  let json;
  if ((headers['content-type'] || '').includes('application/json')) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status, version: m[1], headers, rawHeaders, body: json ?? text, text, consumed: pos };
}

export class RawConn {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.closedAt = null;
    this.error = null;
    this.openedAt = Date.now();
    this.listeners = new Set();
    socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.notify(); });
    socket.on('error', (e) => { this.error = e; this.notify(); });
    socket.on('close', () => { this.closed = true; this.closedAt = Date.now(); this.notify(); });
  }
  notify() { for (const l of this.listeners) l(); }
  write(data) {
    return new Promise((resolve) => {
      if (this.closed || this.socket.destroyed) { resolve(false); return; }
      this.socket.write(data, (err) => resolve(!err));
    });
  }
  until(pred, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = pred(); } catch (e) { cleanup(); reject(e); return true; }
        if (v) { cleanup(); resolve(v); return true; }
        return false;
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.buf.toString('latin1').slice(0, 500))}`)); }, timeoutMs);
      const cleanup = () => { clearTimeout(timer); this.listeners.delete(check); };
      if (!check()) this.listeners.add(check);
    });
  }
  /** Waits for one complete response and removes it from the buffer. */
  async readResponse(timeoutMs = 10_000, opts = {}) {
    const res = await this.until(() => {
      const r = parseResponse(this.buf, { closed: this.closed, ...opts });
      if (!r && this.closed) throw new Error(`connection closed before a full response; received: ${JSON.stringify(this.buf.toString('latin1').slice(0, 500))}`);
      return r;
    }, timeoutMs, 'an HTTP response');
    this.buf = this.buf.subarray(res.consumed);
    return res;
  }
  /** Waits until the peer closes the connection; resolves with ms since open. */
  async waitClosed(timeoutMs = 10_000) {
    await this.until(() => this.closed, timeoutMs, 'the server to close the connection');
    return this.closedAt - this.openedAt;
  }
  destroy() { this.socket.destroy(); }
}

export function connectRaw(port, host = '127.0.0.1', localAddress = undefined) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, localAddress });
    socket.once('connect', () => { socket.removeListener('error', reject); socket.setNoDelay(true); resolve(new RawConn(socket)); });
    socket.once('error', reject);
  });
}

/** Builds a raw HTTP/1.1 request. */
export function rawRequest(method, pathname, { headers = {}, body } = {}) {
  const lines = [`${method} ${pathname} HTTP/1.1`, 'Host: 127.0.0.1'];
  const b = body === undefined ? undefined : (Buffer.isBuffer(body) ? body : Buffer.from(body));
  const names = Object.keys(headers).map((k) => k.toLowerCase());
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (b && !names.includes('content-length') && !names.includes('transfer-encoding')) lines.push(`Content-Length: ${b.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return b ? Buffer.concat([head, b]) : head;
}

// -------------------------------------------------------------- asserts ----

export const ID_RE = /^[0-9a-f]{24}$/;
export const ISO_MS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Returns a header value from a fetch Headers object or a plain lower-cased object. */
export function header(headers, name) {
  if (typeof headers.get === 'function') return headers.get(name);
  const v = headers[name.toLowerCase()];
  return v === undefined ? null : v;
}

/** A TCP port that is free now, so that a restarted server can listen on it again. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
