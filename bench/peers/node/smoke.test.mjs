// Smoke test: starts the server on a free port with a temporary database,
// registers two users, sends a message over Socket.IO and checks the ack,
// the recipient's message:received (acked), the sender's message:delivered
// and the history over REST, then stops the server.
// Run: npm test  (or node --test)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

const here = path.dirname(fileURLToPath(import.meta.url));
let server;
let output = '';
let base;
let tmp;
const clients = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Resolves with the first value `register` gives, or rejects after `ms`.
function within(ms, what, register) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function api(method, pathname, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

function connect(token) {
  const socket = io(base, { auth: { token }, reconnection: false });
  clients.push(socket);
  return socket;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-node-smoke-'));
  const port = await freePort();
  server = spawn(process.execPath, [path.join(here, 'server.js')], {
    cwd: tmp,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_PATH: path.join(tmp, 'chat.db'),
      JWT_SECRET: 'smoke-test-secret-0123456789abcdef',
      BCRYPT_ROUNDS: '4',
      RATE_LIMIT_DISABLED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.setEncoding('utf8');
  server.stderr.setEncoding('utf8');
  server.stderr.on('data', (chunk) => (output += chunk));
  server.stdout.on('data', (chunk) => (output += chunk));
  const exitedEarly = new Promise((_, reject) => {
    server.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  exitedEarly.catch(() => {});
  const listening = within(10_000, 'the server to listen', (done) => {
    const check = () => {
      const m = /listening on http:\/\/([^\s:]+):(\d+)/.exec(output);
      if (m) {
        server.stdout.off('data', check);
        done(m);
      }
    };
    server.stdout.on('data', check);
  });
  const match = await Promise.race([listening, exitedEarly]);
  base = `http://127.0.0.1:${match[2]}`;
});

after(async () => {
  for (const c of clients) c.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
    server.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.equal(code, 0, `server exit: code ${code}, signal ${signal}\n${output}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a message sent over Socket.IO is acked, received, delivered and in the history', async () => {
  const email = (n) => `${n}-${process.pid}@example.com`;
  const alice = await api('POST', '/api/auth/register', {
    body: { name: 'Alice', email: email('alice'), password: 'correct horse' },
  });
  assert.equal(alice.status, 201);
  assert.match(alice.body.user._id, /^[0-9a-f]{24}$/);
  const bob = await api('POST', '/api/auth/register', {
    body: { name: 'Bob', email: email('bob'), password: 'battery staple' },
  });
  assert.equal(bob.status, 201);
  const aliceId = alice.body.user._id;
  const bobId = bob.body.user._id;

  const bobSocket = connect(bob.body.token);
  const bobOnline = await within(5000, "Bob's users:online", (done) => bobSocket.once('users:online', done));
  assert.deepEqual(bobOnline.userIds, [bobId]);

  const aliceSocket = connect(alice.body.token);
  const seenOnline = within(5000, 'user:online for Alice', (done) => bobSocket.once('user:online', done));
  const aliceOnline = await within(5000, "Alice's users:online", (done) => aliceSocket.once('users:online', done));
  assert.deepEqual([...aliceOnline.userIds].sort(), [aliceId, bobId].sort());
  assert.deepEqual(await seenOnline, { userId: aliceId });

  const received = within(5000, 'message:received', (done) =>
    bobSocket.once('message:received', (payload, ack) => {
      assert.equal(typeof ack, 'function', 'message:received asks for an ack');
      ack();
      done(payload);
    }),
  );
  const delivered = within(5000, 'message:delivered', (done) => aliceSocket.once('message:delivered', done));

  const ack = await aliceSocket.timeout(5000).emitWithAck('message:send', { to: bobId, text: 'hello Bob', tempId: 'smoke-1' });
  assert.equal(ack.ok, true);
  const sent = ack.message;
  assert.match(sent._id, /^[0-9a-f]{24}$/);
  assert.equal(sent.from, aliceId);
  assert.equal(sent.to, bobId);
  assert.equal(sent.text, 'hello Bob');
  assert.equal(sent.seq, 1);
  assert.equal(sent.tempId, 'smoke-1');
  assert.equal(sent.delivered, false);
  assert.match(sent.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const { message } = await received;
  assert.deepEqual(message, sent);

  const receipt = await delivered;
  assert.equal(receipt.messageId, sent._id);
  assert.equal(receipt.conversationId, sent.conversationId);
  assert.match(receipt.deliveredAt, /Z$/);

  // A retry with the same tempId is the same message, not a second one.
  const retry = await aliceSocket.timeout(5000).emitWithAck('message:send', { to: bobId, text: 'hello Bob', tempId: 'smoke-1' });
  assert.equal(retry.ok, true);
  assert.equal(retry.message._id, sent._id);

  const history = await api('GET', `/api/messages/${aliceId}`, { token: bob.body.token });
  assert.equal(history.status, 200);
  assert.equal(history.body.length, 1);
  assert.equal(history.body[0]._id, sent._id);
  assert.equal(history.body[0].delivered, true);
  assert.equal(history.body[0].deliveredAt, receipt.deliveredAt);
  assert.equal(history.body[0].read, false);

  const byConversation = await api('GET', `/api/messages/${sent.conversationId}?limit=10`, { token: alice.body.token });
  assert.deepEqual(byConversation.body, history.body);
});
