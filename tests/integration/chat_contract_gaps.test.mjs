// Contract rows that were easy to get subtly wrong: acks asked of every
// message:received, presence stored before it is told, nbf, and a user who
// stops existing while connected.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { startServer, newUser, request, signJwt, decodeJwt } from './lib/server.mjs';
import { BASE_ENV, connect, closeAll, userList } from './lib/chat.mjs';

// The harness stops every server after the file and checks it exits 0.
after(closeAll);

const server = (env = {}) => startServer({ env: { ...BASE_ENV, ...env } });

test('message:received asks for an ack on the sender\'s other devices too, and their ack is no receipt', async () => {
  const srv = await server();
  const alice = await newUser(srv.url, { name: 'Alice' });
  const bob = await newUser(srv.url, { name: 'Bob' });
  const phone = await connect(srv.url, alice, { label: 'alice phone' });
  const laptop = await connect(srv.url, alice, { label: 'alice laptop' });
  const message = await phone.send(bob, 'from my phone');
  const copy = await laptop.waitReceived(message._id);
  assert.equal(typeof copy.ack, 'function', 'the server asked for an ack');
  copy.ack({ ok: true });
  // Bob connects later: the message is still pending for him (not delivered).
  const bobSocket = await connect(srv.url, bob, { label: 'bob' });
  const got = await bobSocket.waitReceived(message._id);
  assert.equal(got.args[0].message.delivered, false);
  got.ack({ ok: true });
  const delivered = await phone.waitEvent('message:delivered', (p) => p.messageId === message._id);
  assert.equal(delivered.args[0].conversationId, message.conversationId);
});

test('user:offline comes after lastSeen is stored; online in GET /api/users matches user:online', async () => {
  const srv = await server();
  const watcher = await newUser(srv.url, { name: 'Watcher' });
  const eve = await newUser(srv.url, { name: 'Eve' });
  const w = await connect(srv.url, watcher, { label: 'watcher' });
  for (let round = 1; round <= 10; round += 1) {
    const e = await connect(srv.url, eve, { label: `eve ${round}` });
    await w.waitEvent('user:online', (p) => p.userId === eve.user._id, { count: round });
    assert.equal((await userList(srv.url, watcher)).get(eve.user._id).online, true, `round ${round}: online`);
    e.close();
    const off = await w.waitEvent('user:offline', (p) => p.userId === eve.user._id, { count: round });
    const listed = (await userList(srv.url, watcher)).get(eve.user._id);
    assert.equal(listed.online, false, `round ${round}: offline`);
    assert.equal(listed.lastSeen, off.args[0].lastSeen, `round ${round}: lastSeen stored before user:offline`);
    const me = await request(srv.url, '/api/auth/me', { token: eve.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.lastSeen, off.args[0].lastSeen);
  }
});

test('a token whose nbf lies in the future is refused, on HTTP and sockets', async () => {
  const srv = await server();
  const alice = await newUser(srv.url);
  const { header, payload } = decodeJwt(alice.token);
  const now = Math.floor(Date.now() / 1000);
  const early = signJwt(header, { ...payload, nbf: now + 3600 });
  assert.equal((await request(srv.url, '/api/auth/me', { token: early })).status, 401);
  const ok = signJwt(header, { ...payload, nbf: now - 10 });
  assert.equal((await request(srv.url, '/api/auth/me', { token: ok })).status, 200);
  await assert.rejects(connect(srv.url, early, { label: 'early' }), /unauthorized/);
});

test('a deleted user\'s sockets are disconnected within AUTH_CACHE_MS and their sends refused', async () => {
  const srv = await server({ AUTH_CACHE_MS: '1000' });
  const alice = await newUser(srv.url, { name: 'Alice' });
  const bob = await newUser(srv.url, { name: 'Bob' });
  const socket = await connect(srv.url, alice, { label: 'alice' });
  await socket.send(bob, 'before');
  const r = spawnSync('sqlite3', [`${srv.dir}/parley.db`, `PRAGMA busy_timeout=5000; DELETE FROM users WHERE id='${alice.user._id}';`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const reason = await socket.waitDisconnect(5000);
  assert.equal(reason, 'io server disconnect');
  const res = await request(srv.url, '/api/messages/send', { method: 'POST', token: alice.token, body: { to: bob.user._id, text: 'after' } });
  assert.equal(res.status, 401);
  await assert.rejects(connect(srv.url, alice, { label: 'alice again' }), /unauthorized/);
});
