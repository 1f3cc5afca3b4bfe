// parleyd with REDIS_URL, against a private redis-server this test starts
// and stops: /api/health reports the broker, chat and logout work through
// the Redis broker, and the node keeps serving its own sockets while Redis
// is down, then reconnects by itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, request, newUser, waitFor, freePort, makeTempDir } from './lib/server.mjs';
import { BASE_ENV, closeAll, connect, onlineSnapshot } from './lib/chat.mjs';

const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';
let redis = null;
let port;
let dir;

function startRedis() {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.stdout.on('data', () => {
      if (/Ready to accept connections/.test(out)) { clearTimeout(timer); resolve(child); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited ${code}: ${out}`)); });
  });
}

function stopRedis(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

const brokerState = async (url) => (await request(url, '/api/health')).body.broker;

let srv;
before(async () => {
  port = await freePort();
  dir = makeTempDir('parley-redis-');
  redis = await startRedis();
  srv = await startServer({ env: { ...BASE_ENV, REDIS_URL: `redis://127.0.0.1:${port}` } });
});
after(async () => {
  closeAll();
  if (srv) assert.equal(await srv.stop(), 0);
  if (redis) await stopRedis(redis);
});

test('health reports the broker; chat, presence and logout go through it; Redis down and back', async () => {
  await waitFor(async () => (await brokerState(srv.url)) === 'ok', { what: 'broker ok in /api/health' });
  const health = await request(srv.url, '/api/health');
  assert.equal(health.status, 200);
  assert.deepEqual(Object.keys(health.body).sort(), ['broker', 'db', 'status', 'uptimeSeconds', 'version']);

  const [a, b] = await Promise.all([newUser(srv.url, { name: 'Redis A' }), newUser(srv.url, { name: 'Redis B' })]);
  const ca = await connect(srv.url, a, { label: 'a' });
  await onlineSnapshot(ca);
  const cb = await connect(srv.url, b, { label: 'b' });
  await ca.waitEvent('user:online', (p) => p.userId === b.user._id);
  const m = await ca.send(b, 'through redis');
  (await cb.waitReceived(m._id)).ack();
  await ca.waitEvent('message:delivered', (p) => p.messageId === m._id);

  // Redis goes away: the node serves its own sockets, health says so.
  await stopRedis(redis);
  redis = null;
  await waitFor(async () => (await brokerState(srv.url)) === 'down', { what: 'broker down in /api/health' });
  assert.equal((await request(srv.url, '/api/health')).status, 200, 'a broker down alone is no 503');
  const m2 = await ca.send(b, 'redis is down');
  await cb.waitReceived(m2._id);

  // Back: the broker reconnects by itself.
  redis = await startRedis();
  await waitFor(async () => (await brokerState(srv.url)) === 'ok', { timeoutMs: 20_000, what: 'broker ok again' });
  const m3 = await ca.send(b, 'redis is back');
  await cb.waitReceived(m3._id);

  // Logout revokes through the broker: b's socket is disconnected.
  const out = await request(srv.url, '/api/auth/logout', { method: 'POST', token: b.token });
  assert.equal(out.status, 200);
  assert.equal(await cb.waitDisconnect(), 'io server disconnect');
  assert.equal((await request(srv.url, '/api/auth/me', { token: b.token })).status, 401);
});
