// Ordering under concurrency: 20 sockets sending at once (with acks) into one
// conversation, and 20 senders into 20 conversations of one recipient. Every
// socket sees each conversation's seq strictly increasing; the observers see
// every message exactly once.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser } from './lib/server.mjs';
import { historyAfterSeq } from './lib/messages.mjs';
import { TRANSPORT_MODES, BASE_ENV, connect, closeAll } from './lib/chat.mjs';

const SENDERS = 20;
const PER_SENDER = 25;

let srv;
before(async () => { srv = await startServer({ env: { ...BASE_ENV, MAX_SOCKETS_PER_USER: '50' } }); });
after(async () => { closeAll(); if (srv) assert.equal(await srv.stop(), 0); });

/** Asserts that, per conversation, the seqs `client` received strictly increase; returns {conv: [seq]}. */
function assertIncreasing(client) {
  const per = new Map();
  for (const e of client.all('message:received')) {
    const m = e.args[0].message;
    if (m.text.startsWith('barrier')) continue;
    const list = per.get(m.conversationId) ?? [];
    if (list.length > 0 && m.seq <= list[list.length - 1]) {
      assert.fail(`${client.label}: conversation ${m.conversationId} seq ${m.seq} after ${list[list.length - 1]} (${list.slice(-5)})`);
    }
    list.push(m.seq);
    per.set(m.conversationId, list);
  }
  return per;
}

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

for (const mode of TRANSPORT_MODES) {
  const T = mode.opts;
  describe(`ordering (${mode.name})`, () => {
    test(`${SENDERS} sockets sending at once into one conversation: seq order everywhere`, { timeout: 60_000 }, async () => {
      const a = await newUser(srv.url, { name: 'Ord A' });
      const b = await newUser(srv.url, { name: 'Ord B' });
      const obsA = await connect(srv.url, a, { ...T, label: 'obsA' });
      const obsB = await connect(srv.url, b, { ...T, label: 'obsB', autoAck: true });
      const senders = [];
      try {
        for (let i = 0; i < SENDERS; i += 1) {
          const who = i % 2 === 0 ? a : b;
          senders.push(await connect(srv.url, who, { ...T, label: `S${i}`, autoAck: who === b }));
        }
        // Everyone sends PER_SENDER messages as fast as acks come back.
        const acks = await Promise.all(senders.map(async (s, i) => {
          const to = i % 2 === 0 ? b : a;
          const mine = [];
          for (let k = 0; k < PER_SENDER; k += 1) mine.push(await s.send(to, `s${i} m${k}`));
          return mine;
        }));
        const total = SENDERS * PER_SENDER;
        const all = acks.flat();
        const conv = all[0].conversationId;
        assert.ok(all.every((m) => m.conversationId === conv), 'one conversation');
        assert.deepEqual(all.map((m) => m.seq).sort((x, y) => x - y), range(total), 'acked seqs are 1..n');
        // Each sender's own messages have increasing seq (it waited for each ack).
        for (const mine of acks) {
          for (let k = 1; k < mine.length; k += 1) assert.ok(mine[k].seq > mine[k - 1].seq);
        }
        // The observers see all of them, once, in seq order.
        for (const o of [obsA, obsB]) {
          await o.until(() => o.all('message:received').length >= total, { timeoutMs: 20_000, what: `${total} messages` });
          const per = assertIncreasing(o);
          assert.deepEqual(per.get(conv), range(total), `${o.label} sees 1..${total}`);
        }
        // Each sender sees everything but its own, in seq order.
        for (const [i, s] of senders.entries()) {
          await s.until(() => s.all('message:received').length >= total - PER_SENDER, { timeoutMs: 20_000, what: 'the others\' messages' });
          const per = assertIncreasing(s);
          const own = new Set(acks[i].map((m) => m.seq));
          assert.deepEqual(per.get(conv), range(total).filter((q) => !own.has(q)), `${s.label} sees the others' messages`);
        }
        // And the store agrees.
        const stored = await historyAfterSeq(srv.url, a, b.user._id);
        assert.deepEqual(stored.map((m) => m.seq), range(total));
        assert.deepEqual(new Set(stored.map((m) => m._id)), new Set(all.map((m) => m._id)));
      } finally {
        for (const c of [obsA, obsB, ...senders]) c.close();
      }
    });

    test(`${SENDERS} senders into ${SENDERS} conversations of one recipient: each conversation in seq order`, { timeout: 60_000 }, async () => {
      const r = await newUser(srv.url, { name: 'Ord R' });
      const users = [];
      for (let i = 0; i < SENDERS; i += 1) users.push(await newUser(srv.url, { name: `Ord S${i}` }));
      const r1 = await connect(srv.url, r, { ...T, label: 'R1', autoAck: true });
      const r2 = await connect(srv.url, r, { ...T, label: 'R2' });
      const clients = [];
      try {
        for (const [i, u] of users.entries()) clients.push(await connect(srv.url, u, { ...T, label: `S${i}` }));
        const acks = await Promise.all(clients.map(async (c, i) => {
          const pending = [];
          // Several in flight at once per socket: the seq must still follow the commit order.
          for (let k = 0; k < PER_SENDER; k += 1) pending.push(c.send(r, `u${i} m${k}`));
          return Promise.all(pending);
        }));
        const total = SENDERS * PER_SENDER;
        for (const rc of [r1, r2]) {
          await rc.until(() => rc.all('message:received').length >= total, { timeoutMs: 20_000, what: `${total} messages` });
          const per = assertIncreasing(rc);
          assert.equal(per.size, SENDERS);
          for (const mine of acks) {
            assert.deepEqual(per.get(mine[0].conversationId), range(PER_SENDER), `${rc.label}: all of one conversation`);
          }
        }
        // Each conversation got exactly its sender's messages, seq 1..n.
        for (const mine of acks) {
          assert.deepEqual(mine.map((m) => m.seq).sort((x, y) => x - y), range(PER_SENDER));
          assert.equal(new Set(mine.map((m) => m.conversationId)).size, 1);
        }
      } finally {
        for (const c of [r1, r2, ...clients]) c.close();
      }
    });
  });
}
