// Engine.IO v4 / Socket.IO v5 client helpers for the protocol tests: HTTP
// long-polling over fetch and WebSocket over the `ws` package, with every
// received frame kept in a queue (two frames sent back to back may arrive in
// one TCP read, so one-shot listeners would lose the second).

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connectRaw, rawRequest, request, startServer, awaitedLater } from './server.mjs';

export const SEP = '\x1e';

/**
 * The settings most protocol tests run the server with: no ping and no
 * deadline within a test's lifetime, so that what a test sees comes from
 * what it sent (a ping answering a GET would change its body).
 */
export const PROTOCOL_ENV = {
  PROTOCOL_TEST_MODE: '1',
  PING_INTERVAL_MS: '60000',
  PING_TIMEOUT_MS: '60000',
  CONNECT_TIMEOUT_MS: '60000',
  RATE_LIMIT_DISABLED: '1',
};
export const PING_INTERVAL = 60000;
export const PING_TIMEOUT = 60000;
export const CONNECT_TIMEOUT = 60000;

/**
 * For the tests of the heartbeat and the connect deadline: short enough to
 * wait out, long enough (seconds) for a busy client to answer a ping in time.
 */
export const HEARTBEAT_ENV = {
  ...PROTOCOL_ENV,
  PING_INTERVAL_MS: '500',
  PING_TIMEOUT_MS: '2000',
  CONNECT_TIMEOUT_MS: '3000',
};
export const HB_PING_INTERVAL = 500;
export const HB_PING_TIMEOUT = 2000;
export const HB_CONNECT_TIMEOUT = 3000;

/** Slack on the deadline for something the server must do at a time: seconds. */
export const DEADLINE_SLACK = 8000;

/**
 * startServer, plus a report on stderr (with the server's last output) when
 * parleyd exits before the test stops it: a failure then shows why.
 */
export async function startWatchedServer(opts = {}) {
  const srv = await startServer(opts);
  let stopping = false;
  const { stop, kill } = srv;
  srv.exited.then(({ code, signal }) => {
    if (stopping) return;
    process.stderr.write(`parleyd ${srv.pid} on port ${srv.port} exited unexpectedly (code ${code}, signal ${signal}); its last output:\n`
      + `${srv.stdout.text.slice(-3000)}\n${srv.stderr.text.slice(-3000)}\n`);
  });
  srv.stop = (signal) => { stopping = true; return stop(signal); };
  srv.kill = () => { stopping = true; return kill(); };
  return srv;
}

/** `${base}${path}?EIO=4&transport=...&sid=...` with the given query pairs (null values are left out). */
export function eioPath(path, query = {}) {
  const q = Object.entries({ EIO: '4', transport: 'polling', ...query })
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `${path}?${q}`;
}

export function wsUrl(httpUrl, path, query = {}) {
  return httpUrl.replace(/^http/, 'ws') + eioPath(path, { transport: 'websocket', ...query });
}

// ------------------------------------------------------------- polling ----

/** One polling request: resolves {status, text, body(parsed JSON or text), headers}. */
export async function pollRequest(url, path, { method = 'GET', sid, body, query = {}, headers = {} } = {}) {
  const res = await fetch(url + eioPath(path, { sid, ...query }), {
    method,
    body,
    headers: body !== undefined ? { 'content-type': 'text/plain;charset=UTF-8', ...headers } : headers,
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, body: parsed, headers: res.headers };
}

/** Opens a polling session; resolves the parsed handshake ({sid, upgrades, ...}). */
export async function pollingHandshake(url, path) {
  const res = await pollRequest(url, path);
  if (res.status !== 200 || !res.text.startsWith('0')) {
    throw new Error(`polling handshake failed: ${res.status} ${res.text}`);
  }
  return JSON.parse(res.text.slice(1));
}

export const pollGet = (url, path, sid, query) => pollRequest(url, path, { sid, query });
export const pollPost = (url, path, sid, body) => pollRequest(url, path, { method: 'POST', sid, body });

/**
 * Sends a polling GET on a connection of its own and returns once the
 * request is written (in the server's socket before the caller goes on).
 * `response` resolves {status, text, body, headers}.
 */
export async function startPollGet(srv, path, sid, query = {}) {
  const conn = await connectRaw(srv.port);
  await conn.write(rawRequest('GET', eioPath(path, { sid, ...query })));
  const response = awaitedLater(conn.readResponse(30_000).finally(() => conn.destroy()));
  return { response };
}

/**
 * No event tells a client that the server holds its GET. For a test of what
 * a held GET gets, `attempt(headStartMs)` starts a GET, waits the head start,
 * goes on, asserts exactly the outcome of the order it observed, and returns
 * true if the server held the GET. Retried with a longer head start until
 * that happened; fails if it never did.
 */
export async function untilHeld(attempt, what) {
  for (const headStart of [0, 20, 50, 100, 250, 500, 1000, 2000]) {
    if (await attempt(headStart)) return;
  }
  assert.fail(`the server never held the GET first: ${what}`);
}

export function delay(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

/** Splits a polling payload into its packets. */
export function splitPayload(text) {
  return text.length === 0 ? [] : text.split(SEP);
}

/** Rejects when `promise` has not settled within `ms`. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed: ${what}`)), ms); }),
  ]);
}

/**
 * A Socket.IO client over polling: sends with POST, reads with GET; pings
 * ("2") are answered with pongs and left out of what `next` returns.
 */
export class PollingClient {
  constructor(url, path, sid) {
    this.url = url;
    this.path = path;
    this.sid = sid;
    this.queue = [];
  }

  static async open(url, path) {
    const hs = await pollingHandshake(url, path);
    const c = new PollingClient(url, path, hs.sid);
    c.handshake = hs;
    return c;
  }

  async post(body) {
    const res = await pollPost(this.url, this.path, this.sid, body);
    if (res.status !== 200 || res.text !== 'ok') throw new Error(`POST ${JSON.stringify(body).slice(0, 80)}: ${res.status} ${res.text}`);
    return res;
  }

  /** Resolves the next packet that is not a ping, issuing GETs as needed. */
  async next(timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (Date.now() > deadline) throw new Error(`no packet within ${timeoutMs} ms`);
      const res = await within(pollGet(this.url, this.path, this.sid), Math.max(1, deadline - Date.now()) + 500, 'a polling GET');
      if (res.status !== 200) throw new Error(`GET: ${res.status} ${res.text}`);
      for (const p of splitPayload(res.text)) {
        if (p === '2') await this.post('3');
        else if (p === '6') continue;
        else this.queue.push(p);
      }
    }
    return this.queue.shift();
  }
}

// ----------------------------------------------------------- WebSocket ----

/**
 * A WebSocket with a queue of received frames. Text frames are strings,
 * binary frames Buffers. With `autoPong` a "2" is answered with "3" and not
 * queued.
 */
export class WsClient {
  constructor(ws, { autoPong = true } = {}) {
    this.ws = ws;
    this.autoPong = autoPong;
    this.queue = [];
    this.received = [];   // every frame, pings included, with its arrival time
    this.waiters = new Set();
    this.opened = false;
    this.closed = false;
    this.closeInfo = null;
    this.error = null;
    this.httpStatus = null;
    this.httpBody = null;
    this.createdAt = Date.now();
    ws.on('open', () => { this.opened = true; this.openedAt = Date.now(); this.notify(); });
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? Buffer.from(data) : data.toString('utf8');
      this.received.push({ frame, at: Date.now() });
      if (this.autoPong && frame === '2') {
        if (ws.readyState === WebSocket.OPEN) ws.send('3');
      } else {
        this.queue.push(frame);
      }
      this.notify();
    });
    ws.on('unexpected-response', (req, res) => {
      this.httpStatus = res.statusCode;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => { this.httpBody = body; this.closed = true; this.closedAt = Date.now(); this.notify(); });
      res.on('error', () => { this.closed = true; this.notify(); });
      req.destroy();
    });
    ws.on('error', (e) => { this.error = e; this.notify(); });
    ws.on('close', (code, reason) => {
      this.closed = true;
      this.closedAt = Date.now();
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this.notify();
    });
  }

  notify() { for (const w of this.waiters) w(); }

  until(pred, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = pred(); } catch (e) { cleanup(); reject(e); return true; }
        if (v !== undefined && v !== false && v !== null) { cleanup(); resolve(v); return true; }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; queued: ${describeFrames(this.queue)}; closed: ${this.closed}`));
      }, timeoutMs);
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      if (!check()) this.waiters.add(check);
    });
  }

  /** Resolves once the handshake is done; rejects if the server refuses it. */
  async waitOpen(timeoutMs = 10_000) {
    await this.until(() => {
      if (this.opened) return true;
      if (this.httpStatus !== null && this.closed) throw new Error(`WebSocket refused: HTTP ${this.httpStatus} ${this.httpBody}`);
      if (this.closed || this.error) throw new Error(`WebSocket failed: ${this.error?.message ?? 'closed'}`);
      return false;
    }, timeoutMs, 'the WebSocket to open');
    return this;
  }

  /** The next queued frame; rejects if the socket closes first or on timeout. */
  next(timeoutMs = 10_000, what = 'a frame') {
    return this.until(() => {
      if (this.queue.length > 0) return { frame: this.queue.shift() };
      if (this.closed) throw new Error(`closed (${JSON.stringify(this.closeInfo)}) while waiting for ${what}`);
      return false;
    }, timeoutMs, what).then((r) => r.frame);
  }

  /** The next `n` frames. */
  async nextN(n, timeoutMs = 10_000) {
    const out = [];
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < n; i += 1) out.push(await this.next(Math.max(1, deadline - Date.now()), `frame ${i + 1} of ${n}`));
    return out;
  }

  /** Resolves with {code, reason, ms since creation} once closed. */
  async waitClose(timeoutMs = 10_000) {
    await this.until(() => this.closed, timeoutMs, 'the server to close the WebSocket');
    return { ...this.closeInfo, afterMs: this.closedAt - this.createdAt };
  }

  send(data) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary: typeof data !== 'string' }, (err) => (err ? reject(err) : resolve()));
    });
  }

  close() {
    if (this.ws.readyState === WebSocket.CONNECTING) { this.ws.terminate(); return; }
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
  }

  terminate() { this.ws.terminate(); }
}

function describeFrames(frames) {
  return JSON.stringify(frames.slice(0, 5).map((f) => (typeof f === 'string' ? f.slice(0, 120) : `<binary ${f.length}>`)));
}

/** Starts a WebSocket (not waiting for it to open). */
export function wsConnect(url, path, query = {}, opts = {}) {
  const ws = new WebSocket(wsUrl(url, path, query), { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  return new WsClient(ws, opts);
}

/** Opens a WebSocket-only Engine.IO session; resolves {client, handshake}. */
export async function wsOpen(url, path, opts = {}) {
  const client = wsConnect(url, path, {}, opts);
  await client.waitOpen();
  const first = await client.next(10_000, 'the Engine.IO handshake');
  if (typeof first !== 'string' || !first.startsWith('0')) throw new Error(`expected an open packet, got ${JSON.stringify(first)}`);
  return { client, handshake: JSON.parse(first.slice(1)) };
}

/**
 * Opens a WebSocket session on /socket.io/ and connects to `nsp` (with the
 * optional `auth` JSON). Resolves {client, handshake, connect, sid} after the
 * CONNECT answer and the test app's "auth" event.
 */
export async function sioConnect(url, { nsp = '/', auth, opts = {} } = {}) {
  const { client, handshake } = await wsOpen(url, '/socket.io/', opts);
  const prefix = nsp === '/' ? '' : `${nsp},`;
  await client.send(`40${prefix}${auth === undefined ? '' : JSON.stringify(auth)}`);
  // Without autoPong a ping may come in between: answered here.
  const nextPacket = async (what) => {
    for (;;) {
      const f = await client.next(10_000, what);
      if (f !== '2') return f;
      await client.send('3');
    }
  };
  const connect = await nextPacket('the CONNECT answer');
  if (!connect.startsWith(`40${prefix}`)) throw new Error(`expected CONNECT for ${nsp}, got ${connect}`);
  const authEvent = await nextPacket('the "auth" event');
  if (!authEvent.startsWith(`42${prefix}["auth",`)) throw new Error(`expected the auth event, got ${authEvent}`);
  return { client, handshake, connect, sid: JSON.parse(connect.slice(2 + prefix.length)).sid };
}

// ------------------------------------------------------------- metrics ----

/** The sum of the samples named `name` in /metrics (0 when absent). */
export async function metricValue(url, name) {
  const res = await request(url, '/metrics');
  if (res.status !== 200) throw new Error(`/metrics: ${res.status}`);
  let sum = 0;
  for (const m of res.text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}
