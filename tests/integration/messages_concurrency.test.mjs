// Concurrent sends into one conversation: seq is assigned at commit with no
// gap or duplicate, every 201 is stored, history returns seq order; and
// concurrent retries of one tempId store exactly one message.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser } from './lib/server.mjs';
import { assertMessage, JsonClient, historyAfterSeq, historyBefore, assertSeqRun } from './lib/messages.mjs';

let srv;
before(async () => { srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } }); });
after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

describe('50 clients x 200 messages into one conversation', () => {
  const CLIENTS = 50;
  const PER_CLIENT = 200;
  const TOTAL = CLIENTS * PER_CLIENT;

  test('seq runs 1..10000 with no gap or duplicate; every 201 is stored; history is in seq order', { timeout: 180_000 }, async () => {
    const a = await newUser(srv.url, { name: 'Conc A' });
    const b = await newUser(srv.url, { name: 'Conc B' });
    const clients = Array.from({ length: CLIENTS }, () => new JsonClient(srv.url, { sockets: 1 }));
    const acked = []; // every 201 body
    const perClient = Array.from({ length: CLIENTS }, () => []);
    const failures = [];
    try {
      // Even clients send as a, odd clients as b: both directions, one conversation.
      await Promise.all(clients.map(async (client, c) => {
        const [from, to] = c % 2 === 0 ? [a, b] : [b, a];
        for (let i = 0; i < PER_CLIENT; i += 1) {
          const text = `c${c} m${i}`;
          const res = await client.post('/api/messages/send', { to: to.user._id, text }, from.token);
          if (res.status !== 201) { failures.push(`${text}: ${res.status} ${res.text}`); continue; }
          acked.push(res.body);
          perClient[c].push(res.body);
        }
      }));
    } finally {
      for (const client of clients) client.close();
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} sends were not 201`);
    assert.equal(acked.length, TOTAL);

    // The acknowledgements: one conversation, seq exactly 1..TOTAL.
    const cid = acked[0].conversationId;
    const bySeq = new Map();
    for (const m of acked) {
      assert.equal(m.conversationId, cid);
      assert.ok(!bySeq.has(m.seq), `seq ${m.seq} acknowledged twice`);
      bySeq.set(m.seq, m);
    }
    for (let s = 1; s <= TOTAL; s += 1) if (!bySeq.has(s)) assert.fail(`seq ${s} missing from the acknowledgements`);
    assert.equal(new Set(acked.map((m) => m._id)).size, TOTAL, 'ids are unique');
    for (const m of acked.slice(0, 20)) assertMessage(m);
    // Each client sent one at a time, so its own messages commit in its order.
    for (const [c, list] of perClient.entries()) {
      assert.equal(list.length, PER_CLIENT);
      for (let i = 0; i < list.length; i += 1) {
        assert.equal(list[i].text, `c${c} m${i}`);
        if (i > 0) assert.ok(list[i].seq > list[i - 1].seq, `client ${c}: seq ${list[i].seq} after ${list[i - 1].seq}`);
      }
    }

    // History paged forward with afterSeq: exactly the acknowledged messages, in seq order.
    const forward = await historyAfterSeq(srv.url, a, cid, { limit: 200 });
    assertSeqRun(forward, TOTAL);
    for (const m of forward) {
      const ack = bySeq.get(m.seq);
      if (m._id !== ack._id || m.text !== ack.text || m.from !== ack.from) {
        assert.fail(`stored seq ${m.seq} ${JSON.stringify(m)} differs from the acknowledgement ${JSON.stringify(ack)}`);
      }
    }

    // Paged backward with before, from the other participant and by peer id: the same.
    const backward = await historyBefore(srv.url, b, a.user._id, { limit: 200 });
    assertSeqRun(backward, TOTAL);
    assert.deepEqual(backward.map((m) => m._id), forward.map((m) => m._id));

    // The conversation summary agrees.
    const client = new JsonClient(srv.url);
    try {
      const list = (await client.get('/api/conversations', a.token)).body;
      assert.equal(list.length, 1);
      assert.equal(list[0]._id, cid);
      assert.equal(list[0].lastMessage.seq, TOTAL);
      assert.equal(list[0].lastMessage._id, bySeq.get(TOTAL)._id);
      assert.equal(list[0].unreadCount, TOTAL / 2, 'a has unread every message b sent');
    } finally { client.close(); }
  });
});

describe('concurrent retries of one tempId', () => {
  test('10 concurrent POSTs with one tempId store exactly one message', { timeout: 60_000 }, async () => {
    const s = await newUser(srv.url, { name: 'Retry S' });
    const r = await newUser(srv.url, { name: 'Retry R' });
    const clients = Array.from({ length: 10 }, () => new JsonClient(srv.url));
    try {
      // Several rounds, all racing at once, each with its own tempId.
      const ROUNDS = 20;
      const rounds = await Promise.all(Array.from({ length: ROUNDS }, (_, round) =>
        Promise.all(clients.map((client) =>
          client.post('/api/messages/send', { to: r.user._id, text: `round ${round}`, tempId: `t-${round}` }, s.token)))));
      const seen = new Set();
      for (const [round, results] of rounds.entries()) {
        // Exactly one 201 (the send that stored it), the rest 200 (retries).
        assert.deepEqual(results.map((res) => res.status).sort(), [...Array(9).fill(200), 201], `round ${round}: ${results.map((res) => `${res.status} ${res.text.slice(0, 100)}`).join(' | ')}`);
        const ids = new Set(results.map((res) => res.body._id));
        assert.equal(ids.size, 1, `round ${round}: all responses carry one message, got ${[...ids]}`);
        for (const res of results) {
          assert.deepEqual(res.body, results[0].body, 'every response is the same message');
          assertMessage(res.body, { tempId: `t-${round}`, text: `round ${round}` });
        }
        seen.add(results[0].body._id);
      }
      const stored = await historyAfterSeq(srv.url, s, r.user._id);
      assertSeqRun(stored, ROUNDS);
      assert.deepEqual(new Set(stored.map((m) => m._id)), seen);
      assert.deepEqual(stored.map((m) => m.tempId).sort(), Array.from({ length: ROUNDS }, (_, i) => `t-${i}`).sort());
    } finally {
      for (const client of clients) client.close();
    }
  });

  test('the same tempId raced by both participants is one message each', { timeout: 60_000 }, async () => {
    const p = await newUser(srv.url, { name: 'Race P' });
    const q = await newUser(srv.url, { name: 'Race Q' });
    const clients = Array.from({ length: 10 }, () => new JsonClient(srv.url));
    try {
      const results = await Promise.all(clients.map((client, i) => {
        const [from, to] = i % 2 === 0 ? [p, q] : [q, p];
        return client.post('/api/messages/send', { to: to.user._id, text: `from ${from.name}`, tempId: 'same' }, from.token);
      }));
      for (const [from, i0] of [[p, 0], [q, 1]]) {
        const mine = results.filter((_, i) => i % 2 === i0);
        // One 201 and four 200 (retries) per sender, all the same message of theirs.
        assert.deepEqual(mine.map((res) => res.status).sort(), [200, 200, 200, 200, 201], mine.map((res) => `${res.status} ${res.text.slice(0, 100)}`).join(' | '));
        assert.deepEqual([...new Set(mine.map((res) => res.body.from))], [from.user._id]);
        assert.equal(new Set(mine.map((res) => res.body._id)).size, 1);
      }
      const stored = await historyAfterSeq(srv.url, p, q.user._id);
      assertSeqRun(stored, 2);
    } finally {
      for (const client of clients) client.close();
    }
  });
});
