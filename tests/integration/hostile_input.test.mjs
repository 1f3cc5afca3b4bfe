// What one unauthenticated peer can send must never take the server down:
// deeply nested JSON, session floods, binary before CONNECT. Each case checks
// the answer the peer gets and that the server still serves everyone else.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import fs from 'node:fs';

import { startServer, request, connectRaw, rawRequest, newUser, waitFor } from './lib/server.mjs';
import { pollingHandshake, pollPost, pollGet, wsOpen, sioConnect, metricValue, PROTOCOL_ENV } from './lib/eio.mjs';
import { assertError } from './lib/checks.mjs';

// The harness stops every server after the file and checks it exits 0.
const server = (env = {}) => startServer({ env });

async function assertAlive(srv) {
  const res = await request(srv.url, '/api/health');
  assert.equal(res.status, 200, 'the server still answers');
  assert.equal(srv.proc.exitCode, null);
  assert.equal(srv.proc.signalCode, null);
}

test('deeply nested JSON: REST bodies are 400 invalid_json, even above 110 KB', async () => {
  const srv = await server({ BODY_LIMIT_BYTES: String(1 << 20) });
  const res = await request(srv.url, '/api/auth/login', { method: 'POST', body: '['.repeat(300_000) });
  assertError(res, 400, 'invalid_json');
  const closed = await request(srv.url, '/api/auth/login', {
    method: 'POST', body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  });
  assertError(closed, 400, 'invalid_json');
  // 64 levels are still JSON (then a validation error: not an object).
  const ok = await request(srv.url, '/api/auth/login', { method: 'POST', body: `${'['.repeat(64)}${']'.repeat(64)}` });
  assertError(ok, 400, 'validation_failed');
  const deep = await request(srv.url, '/api/auth/login', { method: 'POST', body: `${'['.repeat(65)}${']'.repeat(65)}` });
  assertError(deep, 400, 'invalid_json');
  await assertAlive(srv);
});

test('deeply nested JSON over polling closes only that session', async () => {
  const srv = await server();
  const { sid } = await pollingHandshake(srv.url, '/socket.io/');
  const post = await pollPost(srv.url, '/socket.io/', sid, `42${'['.repeat(200_000)}`);
  // Engine.IO takes the payload (200 ok); the Socket.IO decoder then refuses it.
  assert.equal(post.status, 200, `POST answered ${post.status} ${post.text}`);
  // The session is gone: the next poll is refused as an unknown sid.
  const poll = await pollGet(srv.url, '/socket.io/', sid);
  assert.equal(poll.status, 400);
  assert.deepEqual(poll.body, { code: 1, message: 'Session ID unknown' });
  await assertAlive(srv);
});

test('deeply nested JSON as the first WebSocket message closes only that socket', async () => {
  const srv = await server();
  const { client } = await wsOpen(srv.url, '/socket.io/');
  await client.send(`40${'['.repeat(300_000)}`);
  await client.waitClose(5000);
  await assertAlive(srv);
});

// ------------------------------------------------ session table exhaustion --

const HANDSHAKE = '/socket.io/?EIO=4&transport=polling';

/** Sends `n` polling handshakes pipelined on one connection from `localAddress`; resolves their responses. */
async function pipelinedHandshakes(srv, n, localAddress = '127.0.0.1') {
  const conn = await connectRaw(srv.port, '127.0.0.1', localAddress);
  const one = rawRequest('GET', HANDSHAKE);
  await conn.write(Buffer.concat(Array.from({ length: n }, () => one)));
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(await conn.readResponse(20_000));
  conn.destroy();
  return out;
}

function sidOf(res) {
  assert.equal(res.status, 200, `handshake: ${res.status} ${res.text}`);
  assert.ok(res.text.startsWith('0{'), res.text);
  return JSON.parse(res.text.slice(1)).sid;
}

test('a handshake flood from one IP takes at most its unconnected-session cap; other IPs still get in', async () => {
  const srv = await server({ MAX_PENDING_SESSIONS_PER_IP: '40', HANDSHAKES_PER_IP_BURST: '100000', HANDSHAKES_PER_IP_PER_SEC: '100000' });
  const flood = await pipelinedHandshakes(srv, 2000);
  const ok = flood.filter((r) => r.status === 200);
  assert.equal(ok.length, 40, 'exactly the cap of sessions were opened');
  const refused = flood.filter((r) => r.status !== 200);
  assert.equal(refused.length, 1960);
  for (const r of refused) {
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.text), { code: 4, message: 'Forbidden' });
  }
  // Another client IP is not affected.
  const [other] = await pipelinedHandshakes(srv, 1, '127.0.0.2');
  sidOf(other);
  assert.equal(await metricValue(srv.url, 'parley_eio_handshakes_refused_total'), 1960);
  await assertAlive(srv);
});

test('a session that never connects a namespace leaves at the CONNECT deadline and frees its slot', async () => {
  const srv = await server({ MAX_PENDING_SESSIONS_PER_IP: '2', CONNECT_TIMEOUT_MS: '300', PING_INTERVAL_MS: '60000', PING_TIMEOUT_MS: '60000' });
  const [a, b, c] = await pipelinedHandshakes(srv, 3);
  const sidA = sidOf(a);
  sidOf(b);
  assert.equal(c.status, 403);
  // A refused CONNECT (bad token) does not count as connected.
  assert.equal((await pollPost(srv.url, '/socket.io/', sidA, '40{"token":"nope"}')).status, 200);
  const answer = await pollGet(srv.url, '/socket.io/', sidA);
  assert.match(answer.text, /^44\{"message":"unauthorized"\}/);
  // The deadline closes it: the held poll gets the close packet.
  const closed = await pollGet(srv.url, '/socket.io/', sidA);
  assert.equal(closed.text, '1');
  await waitFor(async () => (await pipelinedHandshakes(srv, 1))[0].status === 200, { what: 'a freed slot' });
  await assertAlive(srv);
});

test('a connected (authenticated) session stops counting as unconnected', async () => {
  const srv = await server({ MAX_PENDING_SESSIONS_PER_IP: '1' });
  const alice = await newUser(srv.url);
  const [first] = await pipelinedHandshakes(srv, 1);
  const sid = sidOf(first);
  assert.equal((await pipelinedHandshakes(srv, 1))[0].status, 403);
  assert.equal((await pollPost(srv.url, '/socket.io/', sid, `40${JSON.stringify({ token: alice.token })}`)).status, 200);
  const answer = await pollGet(srv.url, '/socket.io/', sid);
  assert.match(answer.text, /^40\{"sid":/);
  sidOf((await pipelinedHandshakes(srv, 1))[0]);
  await assertAlive(srv);
});

test('handshakes per IP per second are rate limited', async () => {
  const srv = await server({ HANDSHAKES_PER_IP_PER_SEC: '1', HANDSHAKES_PER_IP_BURST: '5' });
  const res = await pipelinedHandshakes(srv, 8);
  assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 200, 200, 429, 429, 429]);
  sidOf((await pipelinedHandshakes(srv, 1, '127.0.0.2'))[0]);
});

test('MAX_CONNECTIONS_PER_IP counts sessions from the handshake on', async () => {
  const srv = await server({ MAX_CONNECTIONS_PER_IP: '3', RATE_LIMIT_DISABLED: '1' });
  const res = await pipelinedHandshakes(srv, 4);
  assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 403]);
  sidOf((await pipelinedHandshakes(srv, 1, '127.0.0.2'))[0]);
});

// ------------------------------------------------- binary before CONNECT --

function peakRssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/^VmHWM:\s+(\d+) kB/m)[1]);
}

test('binary attachments before CONNECT close the session and are not buffered', async () => {
  // Under AddressSanitizer freed memory waits in a quarantine (256 MB by
  // default), which would count as peak RSS: keep it small here.
  const srv = await server({ ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=8` });
  const before = peakRssKiB(srv.pid);
  const megabyte = Buffer.alloc(1_000_000 - 16, 7);
  const placeholders = Array.from({ length: 9 }, (_, n) => ({ _placeholder: true, num: n }));
  // 30 sessions each announce 9 attachments and send 8 of them: before the
  // fix all of it sat in memory at once (about 240 MB).
  const clients = [];
  for (let i = 0; i < 30; i += 1) clients.push((await wsOpen(srv.url, '/socket.io/')).client);
  for (const client of clients) {
    await client.send(`459-${JSON.stringify(['upload', ...placeholders])}`);
    for (let n = 0; n < 8 && !client.closed; n += 1) {
      try { await client.send(megabyte); } catch { break; }  // closed by the server meanwhile
    }
  }
  for (const c of clients) await c.waitClose(5000);
  const grown = peakRssKiB(srv.pid) - before;
  assert.ok(grown < 64 * 1024, `peak RSS grew by ${grown} KiB`);
  await assertAlive(srv);
});

test('buffered attachment bytes per packet are bounded by SOCKET_MAX_ATTACHMENT_BYTES', async () => {
  const srv = await server({ ...PROTOCOL_ENV, SOCKET_MAX_ATTACHMENT_BYTES: '1000' });
  const { client } = await sioConnect(srv.url);
  const two = () => `452-${JSON.stringify(['message', { _placeholder: true, num: 0 }, { _placeholder: true, num: 1 }])}`;
  await client.send(two());
  await client.send(Buffer.alloc(400, 1));
  await client.send(Buffer.alloc(400, 2));
  const echo = await client.next(3000, 'the echoed binary event');
  assert.match(echo, /^452-\["message-back",/);
  await client.nextN(2);
  await client.send(two());
  await client.send(Buffer.alloc(600, 1));
  await client.send(Buffer.alloc(600, 2));
  await client.waitClose(5000);
  await assertAlive(srv);
});
