// Helpers for the real-time chat tests: the official socket.io-client with
// every received event kept in a log (events that arrive back to back are
// never lost between two waits), waits with deadlines, and acks on demand.

import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { ID_RE, ISO_MS_RE, request } from './server.mjs';

/** The transport settings every event test runs with. */
export const TRANSPORT_MODES = [
  { name: 'default transports', opts: {} },
  { name: 'websocket only', opts: { transports: ['websocket'] } },
];

export const BASE_ENV = { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1' };

// Every client opened by these helpers; closeAll() closes what a test left open.
const openClients = new Set();

export function closeAll() {
  for (const c of openClients) c.close();
}

/**
 * A socket.io-client socket plus the log of everything it received.
 * `events` holds {event, args, ack, at}; `ack` is the server's ack callback
 * (or null when the server asked for none).
 */
export class ChatClient {
  constructor(url, { token, auth, transports, extraHeaders, autoAck = false, label = '', ...rest } = {}) {
    this.label = label;
    this.events = [];
    this.waiters = new Set();
    this.disconnects = [];
    this.connectErrors = [];
    this.autoAck = autoAck;
    const opts = {
      forceNew: true, // one Engine.IO session per client: they are separate devices
      reconnection: false,
      timeout: 10_000,
      ...rest,
    };
    if (auth !== undefined) opts.auth = auth;
    else if (token !== undefined) opts.auth = { token };
    if (transports) opts.transports = transports;
    if (extraHeaders) opts.extraHeaders = extraHeaders;
    this.socket = io(url, opts);
    openClients.add(this);
    this.socket.onAny((event, ...args) => {
      let ack = null;
      if (args.length > 0 && typeof args[args.length - 1] === 'function') ack = args.pop();
      const entry = { event, args, ack, at: Date.now(), acked: false };
      if (ack) {
        entry.ack = (...a) => { entry.acked = true; ack(...a); };
        if (this.autoAck) entry.ack();
      }
      this.events.push(entry);
      this.notify();
    });
    this.socket.on('connect', () => this.notify());
    this.socket.on('disconnect', (reason) => { this.disconnects.push(reason); this.notify(); });
    this.socket.on('connect_error', (err) => { this.connectErrors.push(err); this.notify(); });
  }

  notify() { for (const w of this.waiters) w(); }

  get id() { return this.socket.id; }
  get connected() { return this.socket.connected; }
  get transport() { return this.socket.io.engine?.transport?.name; }

  /** Resolves when `pred()` is truthy (checked on every event); rejects after the deadline. */
  until(pred, { timeoutMs = 10_000, what = 'condition' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = pred(); } catch (e) { cleanup(); reject(e); return true; }
        if (v) { cleanup(); resolve(v); return true; }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label || 'client'}: timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.describe()}`));
      }, timeoutMs);
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      if (!check()) this.waiters.add(check);
    });
  }

  describe() {
    return JSON.stringify(this.events.slice(-10).map((e) => [e.event, ...e.args])).slice(0, 1500);
  }

  /** Resolves once connected; rejects on connect_error or after the deadline. */
  async connected$(timeoutMs = 10_000) {
    await this.until(() => {
      if (this.connectErrors.length > 0) throw new Error(`${this.label}: connect_error ${this.connectErrors[0].message}`);
      return this.socket.connected;
    }, { timeoutMs, what: 'connect' });
    return this;
  }

  /** Resolves with the first connect_error; rejects if it connects instead. */
  async connectError(timeoutMs = 10_000) {
    return this.until(() => {
      if (this.socket.connected) throw new Error(`${this.label}: connected, expected connect_error`);
      return this.connectErrors[0];
    }, { timeoutMs, what: 'connect_error' });
  }

  /** All received entries of `event` (optionally filtered by `pred` on the first argument). */
  all(event, pred = () => true) {
    return this.events.filter((e) => e.event === event && pred(e.args[0], e));
  }

  /** Waits for the n-th (1-based) entry of `event` matching `pred`; resolves with the entry. */
  async waitEvent(event, pred = () => true, { timeoutMs = 10_000, count = 1 } = {}) {
    return this.until(() => {
      const hits = this.all(event, pred);
      return hits.length >= count ? hits[count - 1] : null;
    }, { timeoutMs, what: `${count} x ${event}` });
  }

  /** The message:received entry carrying message `_id`. */
  received(id) { return this.all('message:received', (p) => p?.message?._id === id); }

  /** Waits for message:received of `id`; resolves with the entry (its `ack` acks it). */
  waitReceived(id, opts = {}) {
    return this.waitEvent('message:received', (p) => p?.message?._id === id, opts);
  }

  /** Emits with an ack; resolves with the ack's first argument. */
  async call(event, payload, timeoutMs = 10_000) {
    const args = await this.socket.timeout(timeoutMs).emitWithAck(event, payload);
    return args;
  }

  emit(event, payload) { this.socket.emit(event, payload); }

  /** message:send with an ack; asserts ok and the message shape; resolves with the message. */
  async send(to, text, extra = {}) {
    const toId = typeof to === 'string' ? to : to.user._id;
    const ack = await this.call('message:send', { to: toId, text, ...extra });
    assert.equal(ack?.ok, true, `message:send ack: ${JSON.stringify(ack)}`);
    return ack.message;
  }

  /** Waits for the disconnect event; resolves with its reason. */
  waitDisconnect(timeoutMs = 10_000) {
    return this.until(() => this.disconnects[0], { timeoutMs, what: 'disconnect' });
  }

  close() {
    openClients.delete(this);
    this.socket.disconnect();
    this.socket.io.engine?.close();
  }
}

/** Opens a client and waits for it to connect. `who` is a newUser() result or a token string. */
export async function connect(url, who, opts = {}) {
  const token = typeof who === 'string' ? who : who?.token;
  const c = new ChatClient(url, { token, label: opts.label ?? (who?.name || 'client'), ...opts });
  try {
    await c.connected$();
  } catch (e) {
    c.close();
    throw e;
  }
  return c;
}

/** Waits for the users:online snapshot a connect sends; resolves with its userIds. */
export async function onlineSnapshot(client, timeoutMs = 10_000) {
  const e = await client.waitEvent('users:online', () => true, { timeoutMs });
  return e.args[0].userIds;
}

/** GET /api/users as `who`; resolves with a map of userId -> user. */
export async function userList(url, who) {
  const res = await request(url, '/api/users?limit=200', { token: who.token });
  assert.equal(res.status, 200, res.text);
  return new Map(res.body.map((u) => [u._id, u]));
}

/** Reads a counter (summed over its labels) from GET /metrics. */
export async function metric(url, name) {
  const res = await request(url, '/metrics');
  assert.equal(res.status, 200);
  let total = 0;
  let seen = false;
  for (const line of res.text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (m && m[1] === name) { total += Number(m[3]); seen = true; }
  }
  return seen ? total : null;
}

export function assertIso(v, what = 'timestamp') {
  assert.match(v ?? '', ISO_MS_RE, `${what}: ${v}`);
}

export function assertId(v, what = 'id') {
  assert.match(v ?? '', ID_RE, `${what}: ${v}`);
}

/**
 * A barrier for asserting that an event did NOT arrive: `prober` sends
 * `target` a message over HTTP and waits until every client in `clients`
 * (sockets of `target`) has received it. Events emitted to those sockets
 * before the barrier message was stored have been delivered by then.
 * The barrier message is acked on each client so it is not replayed.
 */
export async function barrier(url, prober, target, clients, timeoutMs = 10_000) {
  const res = await request(url, '/api/messages/send', {
    method: 'POST', token: prober.token, body: { to: target.user._id, text: `barrier ${Date.now()}` },
  });
  assert.equal(res.status, 201, res.text);
  for (const c of clients) {
    const e = await c.waitReceived(res.body._id, { timeoutMs });
    if (e.ack) e.ack();
  }
  return res.body;
}

/**
 * Closes `client` once its transport has settled: a client on the default
 * transports that is still on polling is given `timeoutMs` to finish its
 * upgrade first. (The server keeps a session whose client closed it
 * mid-upgrade registered for a while, and a SIGTERM in that window is a
 * separate case; tests that assert the exit status use this.)
 */
export async function closeSettled(client, timeoutMs = 5000) {
  const engine = client.socket.io.engine;
  const canUpgrade = !client.socket.io.opts.transports || client.socket.io.opts.transports.includes('websocket');
  if (engine && engine.readyState === 'open' && canUpgrade && client.transport === 'polling') {
    await new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        engine.off('upgrade', done);
        engine.off('upgradeError', done);
        engine.off('close', done);
        resolve();
      }
      engine.on('upgrade', done);
      engine.on('upgradeError', done);
      engine.on('close', done);
    });
  }
  client.close();
}

/**
 * Resolves once GET /metrics reports no Engine.IO session left
 * (parley_eio_sessions 0). Each probe is made on a new connection.
 */
export async function sessionsDrained(url, timeoutMs = 10_000) {
  const { freshGet } = await import('./messages.mjs');
  const get = freshGet(url);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await get('/metrics');
    assert.equal(res.status, 200, res.text);
    const m = res.text.match(/^parley_eio_sessions (\S+)$/m);
    const n = m ? Number(m[1]) : null;
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`${n} Engine.IO sessions still open after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** socket.io-client reconnection, fast and without jitter (restart tests). */
export const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500, randomizationFactor: 0 };

/** The messages `client` received, one list per connection (split at each users:online, the first event of a connection). */
export function receivedPerConnection(client) {
  const out = [];
  for (const e of client.events) {
    if (e.event === 'users:online') out.push([]);
    else if (e.event === 'message:received' && out.length > 0) out[out.length - 1].push(e.args[0].message);
  }
  return out;
}
