// Helpers for the message-route tests: a keep-alive JSON client for heavy
// concurrent traffic, message/conversation shape checks, and history paging.

import http from 'node:http';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ID_RE, ISO_MS_RE, request } from './server.mjs';
import { assertUser } from './checks.mjs';

const MESSAGE_KEYS = ['_id', 'conversationId', 'seq', 'from', 'to', 'text', 'createdAt',
  'delivered', 'deliveredAt', 'read', 'readAt'];

/** Asserts the exact Message shape of the contract; `expect` fields are compared too. */
export function assertMessage(m, expect = {}) {
  assert.equal(typeof m, 'object', `message: ${JSON.stringify(m)}`);
  assert.ok(m !== null && !Array.isArray(m), `message: ${JSON.stringify(m)}`);
  const keys = Object.hasOwn(m, 'tempId') ? [...MESSAGE_KEYS, 'tempId'] : MESSAGE_KEYS;
  assert.deepEqual(Object.keys(m).sort(), [...keys].sort(), `message keys: ${JSON.stringify(m)}`);
  assert.match(m._id, ID_RE);
  assert.match(m.conversationId, ID_RE);
  assert.match(m.from, ID_RE);
  assert.match(m.to, ID_RE);
  assert.notEqual(m.from, m.to);
  assert.ok(Number.isInteger(m.seq) && m.seq >= 1, `seq: ${m.seq}`);
  assert.equal(typeof m.text, 'string');
  assert.match(m.createdAt, ISO_MS_RE);
  assert.equal(typeof m.delivered, 'boolean');
  assert.equal(typeof m.read, 'boolean');
  if (m.delivered) assert.match(m.deliveredAt ?? '', ISO_MS_RE, `deliveredAt: ${m.deliveredAt}`);
  else assert.equal(m.deliveredAt, null);
  if (m.read) {
    assert.match(m.readAt ?? '', ISO_MS_RE, `readAt: ${m.readAt}`);
    assert.ok(m.delivered, 'a read message is delivered');
  } else {
    assert.equal(m.readAt, null);
  }
  if (Object.hasOwn(m, 'tempId')) assert.equal(typeof m.tempId, 'string');
  for (const [k, v] of Object.entries(expect)) {
    if (v === undefined) assert.ok(!Object.hasOwn(m, k), `${k} must be absent: ${JSON.stringify(m)}`);
    else assert.deepEqual(m[k], v, `message.${k}`);
  }
  return m;
}

/** Asserts the exact Conversation shape of the contract. */
export function assertConversation(c, { me, peer } = {}) {
  assert.deepEqual(Object.keys(c).sort(),
    ['_id', 'type', 'participants', 'peer', 'lastMessage', 'unreadCount', 'updatedAt'].sort(),
    `conversation keys: ${JSON.stringify(c)}`);
  assert.match(c._id, ID_RE);
  assert.equal(c.type, 'direct');
  assert.ok(Array.isArray(c.participants) && c.participants.length === 2, `participants: ${JSON.stringify(c.participants)}`);
  for (const p of c.participants) assert.match(p, ID_RE);
  assertUser(c.peer);
  assert.ok(c.participants.includes(c.peer._id), 'the peer is a participant');
  assert.ok(Number.isInteger(c.unreadCount) && c.unreadCount >= 0, `unreadCount: ${c.unreadCount}`);
  assert.match(c.updatedAt, ISO_MS_RE);
  if (c.lastMessage !== null) {
    assertMessage(c.lastMessage);
    assert.equal(c.lastMessage.conversationId, c._id);
  }
  if (me) {
    assert.ok(c.participants.includes(me), 'the caller is a participant');
    assert.notEqual(c.peer._id, me, 'the peer is not the caller');
  }
  if (peer) assert.equal(c.peer._id, peer);
  return c;
}

/** POST /api/messages/send with fetch; returns the harness response. */
export function send(url, from, to, text, extra = {}) {
  const toId = typeof to === 'string' ? to : to.user._id;
  return request(url, '/api/messages/send', { method: 'POST', token: from.token, body: { to: toId, text, ...extra } });
}

/** GET /api/messages/:id with a query object; returns the harness response. */
export function history(url, who, id, query = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return request(url, `/api/messages/${id}${qs ? `?${qs}` : ''}`, { token: who.token });
}

/** Every message of a conversation, oldest first, paged forward with afterSeq. */
export async function historyAfterSeq(url, who, id, { limit = 200, get = null } = {}) {
  const all = [];
  let after = 0;
  for (;;) {
    const res = get
      ? await get(`/api/messages/${id}?afterSeq=${after}&limit=${limit}`, who.token)
      : await history(url, who, id, { afterSeq: after, limit });
    assert.equal(res.status, 200, `history afterSeq=${after}: ${res.status} ${res.text}`);
    assert.ok(res.body.length <= limit);
    if (res.body.length === 0) return all;
    all.push(...res.body);
    after = res.body[res.body.length - 1].seq;
  }
}

/** Every message of a conversation, oldest first, paged backward with before. */
export async function historyBefore(url, who, id, { limit = 200 } = {}) {
  const pages = [];
  let before;
  for (;;) {
    const res = await history(url, who, id, before ? { before, limit } : { limit });
    assert.equal(res.status, 200, `history before=${before}: ${res.status} ${res.text}`);
    assert.ok(res.body.length <= limit);
    if (res.body.length === 0) break;
    pages.unshift(res.body);
    before = res.body[0]._id;
  }
  return pages.flat();
}

/** Asserts `messages` carry seq 1..n in order, each once. */
export function assertSeqRun(messages, n) {
  assert.equal(messages.length, n, `expected ${n} messages, got ${messages.length}`);
  for (let i = 0; i < messages.length; i += 1) {
    if (messages[i].seq !== i + 1) assert.fail(`position ${i} has seq ${messages[i].seq}, expected ${i + 1}`);
  }
  assert.equal(new Set(messages.map((m) => m._id)).size, n, 'ids are unique');
}

/**
 * A minimal JSON client over node:http with its own keep-alive agent, for
 * many requests in a loop. `sockets` bounds the connections it opens.
 * Network errors reject (the crash test relies on that).
 */
export class JsonClient {
  constructor(baseUrl, { sockets = 1 } = {}) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }
  request(method, pathname, { body, token, timeoutMs = 30_000 } = {}) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers = {};
      if (payload) { headers['content-type'] = 'application/json'; headers['content-length'] = payload.length; }
      if (token) headers.authorization = `Bearer ${token}`;
      const req = http.request({ host: this.host, port: this.port, method, path: pathname, headers, agent: this.agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          if ((res.headers['content-type'] || '').includes('application/json') && text) {
            try { parsed = JSON.parse(text); } catch { /* keep the text */ }
          }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }
  get(pathname, token) { return this.request('GET', pathname, { token }); }
  post(pathname, body, token) { return this.request('POST', pathname, { body, token }); }
  close() { this.agent.destroy(); }
}

/** Runs `sqlite3 <db> 'PRAGMA integrity_check'` and returns its trimmed output. */
export function sqliteIntegrity(dbPath) {
  const r = spawnSync('sqlite3', [dbPath, 'PRAGMA integrity_check'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `sqlite3 exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * A `get(pathname, token)` for historyAfterSeq() that opens a new connection
 * for every request: after a long wait a pooled keep-alive connection may be
 * closed by the server as it is reused (a client-side race, "other side
 * closed"), which is not what a test of the server's answers is about.
 */
export function freshGet(baseUrl) {
  const u = new URL(baseUrl);
  return (pathname, token) => new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = http.request({ host: u.hostname, port: Number(u.port), method: 'GET', path: pathname, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body = text;
        if ((res.headers['content-type'] || '').includes('application/json') && text) {
          try { body = JSON.parse(text); } catch { /* keep the text */ }
        }
        resolve({ status: res.statusCode, headers: res.headers, body, text });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30000 ms')));
    req.on('error', reject);
    req.end();
  });
}
