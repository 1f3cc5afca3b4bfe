// kill -9 while clients send: after a restart on the same database every
// message that got a 201 is there exactly once, seq has no gap, and SQLite's
// integrity check is ok.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, newUser, waitFor } from './lib/server.mjs';
import { JsonClient, historyAfterSeq, sqliteIntegrity } from './lib/messages.mjs';

const SENDERS = 20;

const started = [];
after(async () => {
  for (const s of started) {
    if (s.running) assert.equal(await s.stop(), 0);
  }
});

/**
 * Runs SENDERS loops that send until told to stop or until the server goes
 * away. Returns {acked, attempts, stop(), done}.
 */
function sendLoops(srv, pairs, tag) {
  const acked = [];
  const state = { stopped: false, attempts: 0, unexpected: [] };
  const clients = [];
  const loops = Array.from({ length: SENDERS }, async (_, c) => {
    const client = new JsonClient(srv.url);
    clients.push(client);
    const [from, to] = pairs[c % pairs.length];
    for (let i = 0; !state.stopped; i += 1) {
      const text = `${tag} c${c} m${i}`;
      state.attempts += 1;
      let res;
      try {
        res = await client.post('/api/messages/send', { to: to.user._id, text }, from.token);
      } catch {
        return; // the server is gone
      }
      if (res.status === 201) acked.push(res.body);
      else state.unexpected.push(`${res.status} ${res.text}`);
    }
  });
  const done = Promise.all(loops).finally(() => { for (const cl of clients) cl.close(); });
  return { acked, state, done, stop() { state.stopped = true; return done; } };
}

test('every acknowledged message survives kill -9, exactly once, and the database is intact', { timeout: 180_000 }, async (t) => {
  let srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
  started.push(srv);
  const dir = srv.dir;
  const db = path.join(dir, 'parley.db');
  const a = await newUser(srv.url, { name: 'Crash A' });
  const b = await newUser(srv.url, { name: 'Crash B' });
  const c = await newUser(srv.url, { name: 'Crash C' });
  // Two conversations, written from both sides.
  const pairs = [[a, b], [b, a], [a, c], [c, a]];
  const acked = [];

  for (let round = 1; round <= 2; round += 1) {
    const t0 = Date.now();
    const run = sendLoops(srv, pairs, `r${round}`);
    // Let them send for a while (at least 1 s and some hundreds of acknowledgements), then kill -9.
    await waitFor(() => Date.now() - t0 >= 1000 && run.acked.length >= 200, { timeoutMs: 30_000, intervalMs: 20, what: 'sends to be acknowledged' });
    const result = await srv.kill();
    assert.equal(result, 'SIGKILL');
    await run.done;
    assert.deepEqual(run.state.unexpected.slice(0, 5), [], 'only 201s before the crash');
    acked.push(...run.acked);

    srv = await srv.restart();
    started.push(srv);
    assert.equal(srv.dir, dir);
  }

  // After the restarts: every acknowledged message is stored exactly once.
  const stored = [];
  for (const [me, peer] of [[a, b], [a, c]]) {
    const list = await historyAfterSeq(srv.url, me, peer.user._id);
    // seq runs 1..n with no gap or duplicate, in order.
    list.forEach((m, i) => { if (m.seq !== i + 1) assert.fail(`${peer.name}: position ${i} has seq ${m.seq}`); });
    stored.push(...list);
  }
  const storedById = new Map();
  for (const m of stored) {
    assert.ok(!storedById.has(m._id), `message ${m._id} stored twice`);
    storedById.set(m._id, m);
  }
  const texts = new Set();
  for (const m of stored) {
    assert.ok(!texts.has(m.text), `text ${m.text} stored twice`);
    texts.add(m.text);
  }
  let missing = 0;
  for (const m of acked) {
    const s = storedById.get(m._id);
    if (!s) { missing += 1; continue; }
    assert.equal(s.seq, m.seq, `seq of ${m._id}`);
    assert.equal(s.text, m.text);
    assert.equal(s.from, m.from);
    assert.equal(s.conversationId, m.conversationId);
  }
  assert.equal(missing, 0, `${missing} of ${acked.length} acknowledged messages were lost`);
  // Stored but unacknowledged messages can only be the ones in flight at each kill.
  const extra = stored.length - acked.length;
  t.diagnostic(`${acked.length} acknowledged, ${stored.length} stored after 2 crashes`);
  assert.ok(extra >= 0 && extra <= 2 * SENDERS, `${extra} stored messages were never acknowledged`);

  // The restarted server keeps going where the log ends.
  const client = new JsonClient(srv.url);
  try {
    const next = await client.post('/api/messages/send', { to: b.user._id, text: 'after the crash' }, a.token);
    assert.equal(next.status, 201, next.text);
    const last = stored.filter((m) => m.conversationId === next.body.conversationId).length;
    assert.equal(next.body.seq, last + 1);
  } finally { client.close(); }

  // SQLite agrees the file is sound, read beside the running server and after it stops.
  assert.equal(sqliteIntegrity(db), 'ok');
  assert.equal(await srv.stop(), 0);
  assert.equal(sqliteIntegrity(db), 'ok');
});

test('read marks survive kill -9', { timeout: 60_000 }, async () => {
  let srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } });
  started.push(srv);
  const r = await newUser(srv.url, { name: 'Crash Reader' });
  const w = await newUser(srv.url, { name: 'Crash Writer' });
  const client = new JsonClient(srv.url);
  let read;
  try {
    for (let i = 0; i < 5; i += 1) {
      const res = await client.post('/api/messages/send', { to: r.user._id, text: `w${i}` }, w.token);
      assert.equal(res.status, 201, res.text);
    }
    read = await client.post(`/api/messages/${w.user._id}/read`, {}, r.token);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.count, 5);
  } finally { client.close(); }
  assert.equal(await srv.kill(), 'SIGKILL');
  srv = await srv.restart();
  started.push(srv);
  const after = await historyAfterSeq(srv.url, w, r.user._id);
  assert.equal(after.length, 5);
  for (const m of after) {
    assert.equal(m.read, true);
    assert.equal(m.readAt, read.body.readAt);
    assert.equal(m.delivered, true);
  }
  const c2 = new JsonClient(srv.url);
  try {
    const list = (await c2.get('/api/conversations', r.token)).body;
    assert.equal(list[0].unreadCount, 0);
  } finally { c2.close(); }
  assert.equal(await srv.stop(), 0);
  assert.equal(sqliteIntegrity(path.join(srv.dir, 'parley.db')), 'ok');
});
