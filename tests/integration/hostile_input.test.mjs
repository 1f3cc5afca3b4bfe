// What one unauthenticated peer can send must never take the server down:
// deeply nested JSON, session floods, binary before CONNECT. Each case checks
// the answer the peer gets and that the server still serves everyone else.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request } from './lib/server.mjs';
import { pollingHandshake, pollPost, pollGet, wsOpen } from './lib/eio.mjs';
import { assertError } from './lib/checks.mjs';

const servers = [];
after(async () => {
  for (const s of servers) assert.equal(await s.stop(), 0, 'parleyd exits cleanly');
});

async function server(env = {}) {
  const s = await startServer({ env });
  servers.push(s);
  return s;
}

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
