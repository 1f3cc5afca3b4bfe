// The store failing under a running server: the SQLite files are overwritten
// with zeros in place (same inodes and sizes, so the server's open
// descriptors and its mapping of the -shm file see it at once; a chmod, an
// unlink or a rename would not reach the already open files). Then
// /api/health answers 503 "degraded", every send is answered with an error
// and never 201 or {ok:true}, nothing reaches the recipient, and nothing of
// it is stored. Putting the saved bytes back brings the same process back:
// health 200, sends stored, the failed attempts absent from history.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, newUser, request, waitFor } from './lib/server.mjs';
import { send as httpSend, historyAfterSeq } from './lib/messages.mjs';
import { assertError } from './lib/checks.mjs';
import { BASE_ENV, connect, barrier, closeAll, sessionsDrained } from './lib/chat.mjs';

const servers = [];
after(async () => {
  closeAll();
  for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
});

const HEALTH_KEYS = ['db', 'status', 'uptimeSeconds', 'version'];

/** The database, its WAL and its shared-memory index. */
function storeFiles(srv) {
  const db = path.join(srv.dir, 'parley.db');
  return [db, `${db}-wal`, `${db}-shm`];
}

/** Overwrites `file` from offset 0 with `bytes`, in place (no truncation, same inode). */
function overwrite(file, bytes) {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}

function health(url) {
  return request(url, '/api/health');
}

function assertDegraded(res) {
  assert.equal(res.status, 503, `health: ${res.status} ${res.text}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  assert.deepEqual(Object.keys(res.body).sort(), HEALTH_KEYS, res.text);
  assert.equal(res.body.status, 'degraded');
  assert.equal(res.body.db, 'unreachable');
  assert.equal(typeof res.body.uptimeSeconds, 'number');
  assert.equal(typeof res.body.version, 'string');
}

test('a failing store: health 503 degraded, sends answered with errors and never stored; it recovers when the files are back', { timeout: 60_000 }, async (t) => {
  const srv = await startServer({ env: BASE_ENV });
  servers.push(srv);
  const a = await newUser(srv.url, { name: 'Store A' });
  const b = await newUser(srv.url, { name: 'Store B' });
  const c = await newUser(srv.url, { name: 'Store C' });
  const before = await httpSend(srv.url, a, b, 'before the failure');
  assert.equal(before.status, 201, before.text);
  const ca = await connect(srv.url, a, { label: 'A', transports: ['websocket'] });
  const cb = await connect(srv.url, b, { label: 'B', autoAck: true });
  // A socket message first, so both sockets are known to work.
  const m1 = await ca.send(b, 'socket before the failure');
  await cb.waitReceived(m1._id);
  await cb.waitReceived(before.body._id);
  await waitFor(async () => (await historyAfterSeq(srv.url, a, b.user._id)).every((m) => m.delivered),
    { timeoutMs: 5000, what: 'the acks to be stored' });
  assert.equal((await health(srv.url)).status, 200);

  // The server is idle now: save the files and zero them in place.
  const files = storeFiles(srv);
  for (const f of files) assert.ok(fs.existsSync(f), `${f} exists`);
  const saved = files.map((f) => fs.readFileSync(f));
  for (const [i, f] of files.entries()) overwrite(f, Buffer.alloc(saved[i].length));

  // Health is probed at most once a second: it turns within about a second, and stays.
  const first = await waitFor(async () => {
    const res = await health(srv.url);
    return res.status === 503 ? res : null;
  }, { timeoutMs: 5000, intervalMs: 100, what: 'health to report the failure' });
  assertDegraded(first);

  // HTTP sends: 500 internal, no detail of the store in the answer.
  const failedHttp = [];
  for (let i = 0; i < 3; i += 1) {
    const res = await httpSend(srv.url, a, b, `http during the failure ${i}`, { tempId: `fail-http-${i}` });
    assertError(res, 500, 'internal');
    assert.doesNotMatch(res.text, /sqlite|database/i, 'no store detail in the answer');
    failedHttp.push(res);
  }
  // Socket sends: error acks, never ok.
  for (let i = 0; i < 3; i += 1) {
    const ack = await ca.call('message:send', { to: b.user._id, text: `socket during the failure ${i}`, tempId: `fail-sock-${i}` });
    assert.equal(ack.ok, false, `ack during the failure: ${JSON.stringify(ack)}`);
    assert.equal(ack.error, 'internal', JSON.stringify(ack));
    assert.equal(typeof ack.message, 'string');
    assert.doesNotMatch(ack.message, /sqlite|database/i, 'no store detail in the ack');
    assert.equal(Object.hasOwn(ack, 'fields'), false);
  }
  // Concurrent sends are all refused too (the writer does not batch one through).
  const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => ca.call('message:send', { to: b.user._id, text: `burst ${i}` })));
  for (const ack of burst) {
    assert.equal(ack.ok, false, JSON.stringify(ack));
    assert.equal(ack.error, 'internal');
  }
  // Reads fail too, as errors.
  const readAck = await cb.call('message:read', { conversationId: m1.conversationId });
  assert.equal(readAck.ok, false, JSON.stringify(readAck));
  assert.equal(readAck.error, 'internal');
  assertError(await request(srv.url, `/api/messages/${b.user._id}`, { token: a.token }), 500, 'internal');
  assertDegraded(await health(srv.url));
  // The server process is still there.
  assert.equal(srv.proc.exitCode, null);

  // Put the files back: the same process recovers.
  for (const [i, f] of files.entries()) overwrite(f, saved[i]);
  await waitFor(async () => (await health(srv.url)).status === 200,
    { timeoutMs: 5000, intervalMs: 100, what: 'health to recover' });
  const okHealth = await health(srv.url);
  assert.equal(okHealth.body.status, 'ok');
  assert.equal(okHealth.body.db, 'ok');

  // Nothing that failed was stored: B's socket received none of it, and history has only the two.
  await barrier(srv.url, c, b, [cb]);
  const during = cb.all('message:received', (p) => /during the failure|burst/.test(p.message.text));
  assert.deepEqual(during.map((e) => e.args[0].message.text), [], 'nothing from the failure reached B');
  const stored = await historyAfterSeq(srv.url, a, b.user._id);
  assert.deepEqual(stored.map((m) => [m.seq, m.text]), [[1, 'before the failure'], [2, 'socket before the failure']]);

  // A retry of a failed send with its tempId is a new message (201, not 200): it was never stored.
  const retry = await httpSend(srv.url, a, b, 'http during the failure 0', { tempId: 'fail-http-0' });
  assert.equal(retry.status, 201, retry.text);
  assert.equal(retry.body.seq, 3);
  const sockRetry = await ca.send(b, 'socket during the failure 0', { tempId: 'fail-sock-0' });
  assert.equal(sockRetry.seq, 4);
  await cb.waitReceived(sockRetry._id);
  const after1 = await historyAfterSeq(srv.url, a, b.user._id);
  assert.deepEqual(after1.map((m) => m.seq), [1, 2, 3, 4]);
  t.diagnostic(`${failedHttp.length + 3 + burst.length} sends refused while the store failed`);

  ca.close();
  cb.close();
  await sessionsDrained(srv.url);
  assert.equal(await srv.stop(), 0, 'parleyd exits 0 after SIGTERM');

  // And the database is sound after the episode: a restart sees the same four.
  const again = await srv.restart();
  servers.push(again);
  const list = await historyAfterSeq(again.url, b, a.user._id);
  assert.deepEqual(list.map((m) => m.text), ['before the failure', 'socket before the failure', 'http during the failure 0', 'socket during the failure 0']);
  assert.equal(await again.stop(), 0);
});
