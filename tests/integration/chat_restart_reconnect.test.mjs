// socket.io-client's own reconnection across a server restart on the same
// port: a sender keeps sending (retrying an unanswered send with its tempId
// once it is connected again), a receiver acks what it gets, and the server
// is stopped with SIGTERM (exit 0) and started again on the same port and
// database in the middle of it. Both clients come back by themselves; the
// conversation holds every text exactly once with seq 1..n in sending order,
// and the receiver ends with every message exactly once after deduplicating
// by _id, in seq order on each connection, all of them marked delivered.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser, waitFor, freePort } from './lib/server.mjs';
import { historyAfterSeq, freshGet } from './lib/messages.mjs';
import { TRANSPORT_MODES, ChatClient, closeAll, sessionsDrained, RECONNECT, receivedPerConnection } from './lib/chat.mjs';

const BEFORE = 100;  // acknowledged sends before the restart
const AFTER = 100;   // and after it
const ENV = { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1' };

const started = [];
after(async () => {
  closeAll();
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
});

for (const mode of TRANSPORT_MODES) {
  test(`auto-reconnect across a restart on the same port keeps every message once and in seq order (${mode.name})`, { timeout: 120_000 }, async (t) => {
    const port = await freePort();
    let srv = await startServer({ env: { ...ENV, PORT: String(port) } });
    started.push(srv);
    const a = await newUser(srv.url, { name: 'Restart Sender' });
    const b = await newUser(srv.url, { name: 'Restart Receiver' });
    const sender = new ChatClient(srv.url, { token: a.token, label: 'sender', ...mode.opts, ...RECONNECT });
    const receiver = new ChatClient(srv.url, { token: b.token, label: 'receiver', autoAck: true, ...mode.opts, ...RECONNECT });
    await sender.connected$();
    await receiver.connected$();

    // The sender: one message at a time; an unanswered send is sent again, with the
    // same tempId, once the socket is connected again.
    const acked = [];
    let retries = 0;
    let phase = 'before';
    let afterCount = 0;
    const unexpected = [];
    const loop = (async () => {
      for (let i = 0; phase !== 'done'; i += 1) {
        const payload = { to: b.user._id, text: `m${i}`, tempId: `m${i}` };
        for (;;) {
          await sender.until(() => sender.connected, { timeoutMs: 30_000, what: 'the sender to be connected' });
          let ack;
          try {
            ack = await sender.call('message:send', payload, 3000);
          } catch {
            retries += 1;
            continue;
          }
          if (!ack.ok) { unexpected.push(JSON.stringify(ack)); return; }
          assert.equal(ack.message.text, payload.text);
          acked.push(ack.message);
          if (phase === 'after') afterCount += 1;
          break;
        }
      }
    })();

    try {
      await waitFor(() => acked.length >= BEFORE || unexpected.length > 0, { timeoutMs: 30_000, intervalMs: 10, what: `${BEFORE} acks` });
      assert.equal(await srv.stop(), 0, 'parleyd exits 0 after SIGTERM');
      for (const c of [sender, receiver]) {
        const reason = await c.waitDisconnect(5000);
        assert.notEqual(reason, 'io server disconnect', `${c.label}: a restart must not stop auto-reconnection`);
      }
      phase = 'after';
      srv = await srv.restart();
      started.push(srv);
      assert.equal(srv.port, port);
      await waitFor(() => afterCount >= AFTER || unexpected.length > 0, { timeoutMs: 60_000, intervalMs: 10, what: `${AFTER} acks after the restart` });
    } finally {
      phase = 'done'; // the sender stops after its current message
    }
    await loop;
    assert.deepEqual(unexpected, [], 'every send is acked ok in the end');
    t.diagnostic(`${acked.length} acked, ${retries} sends retried after the restart`);

    // The store: each text once, in sending order, seq 1..n.
    const stored = await historyAfterSeq(srv.url, a, b.user._id, { get: freshGet(srv.url) });
    assert.deepEqual(stored.map((m) => m.text), Array.from({ length: stored.length }, (_, i) => `m${i}`), 'every text once, in order');
    stored.forEach((m, i) => assert.equal(m.seq, i + 1));
    assert.equal(stored.length, acked.length, 'every stored message was acked to the sender');
    const storedIds = new Set(stored.map((m) => m._id));
    for (const m of acked) assert.ok(storedIds.has(m._id), `acked ${m.text} (${m._id}) is the stored one`);

    // The receiver: every message, once after dedupe by _id, in order on each connection.
    await receiver.until(() => {
      const got = new Set(receiver.all('message:received').map((e) => e.args[0].message._id));
      return stored.every((m) => got.has(m._id));
    }, { timeoutMs: 20_000, what: 'every stored message at the receiver' });
    const conns = receivedPerConnection(receiver);
    assert.ok(conns.length >= 2, `the receiver reconnected (${conns.length} connections)`);
    for (const [ci, list] of conns.entries()) {
      list.forEach((m, i) => {
        if (i > 0 && m.seq <= list[i - 1].seq) assert.fail(`receiver connection ${ci + 1}: seq ${m.seq} after ${list[i - 1].seq}`);
      });
    }
    const unique = new Map();
    for (const m of conns.flat()) unique.set(m._id, m);
    const seqs = [...unique.values()].map((m) => m.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, stored.map((m) => m.seq), 'after dedupe: seq 1..n, no gap, nothing extra');
    t.diagnostic(`receiver: ${conns.flat().length} message:received for ${unique.size} messages over ${conns.length} connections`);

    // Every ack reached the store.
    await waitFor(async () => (await historyAfterSeq(srv.url, a, b.user._id, { get: freshGet(srv.url) })).every((m) => m.delivered),
      { timeoutMs: 10_000, what: 'every message delivered' });
    sender.close();
    receiver.close();
    await sessionsDrained(srv.url);
    assert.equal(await srv.stop(), 0);
  });
}
