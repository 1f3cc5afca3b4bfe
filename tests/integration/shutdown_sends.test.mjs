// SIGTERM while clients send, once over Socket.IO and once over HTTP: the
// server exits 0, and after a restart on the same port and database every
// message that got {ok:true} / 201 is stored exactly once (seq 1..n, checked
// with afterSeq), nothing stored is unaccounted for beyond one in-flight send
// per sender, an in-flight send retried with its tempId is never stored
// twice, and the recipients' own socket.io-client reconnects to the new
// server by itself and receives the rest: one recipient acked everything it
// got before the stop, the other acked nothing (everything pending, replayed
// after the restart). Each device sees its conversations in seq order on
// every connection and ends up with every stored message.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newUser, waitFor, freePort } from './lib/server.mjs';
import { JsonClient, historyAfterSeq, freshGet } from './lib/messages.mjs';
import { ChatClient, connect, closeAll, sessionsDrained, RECONNECT, receivedPerConnection } from './lib/chat.mjs';

const SENDERS = 10;
const MIN_ACKED = 300;
const ENV = { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1' };

const started = [];
after(async () => {
  closeAll();
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
});

/** Asserts each connection of `client` saw every conversation in increasing seq. */
function assertOrderPerConnection(client) {
  for (const [i, list] of receivedPerConnection(client).entries()) {
    const last = new Map();
    for (const m of list) {
      const prev = last.get(m.conversationId) ?? 0;
      assert.ok(m.seq > prev, `${client.label}, connection ${i + 1}: seq ${m.seq} after ${prev} in ${m.conversationId}`);
      last.set(m.conversationId, m.seq);
    }
  }
}

/** Socket senders: sequential message:send with acks until the server goes away. */
async function socketSenders(url, senders, recipients) {
  const clients = [];
  for (const [c, s] of senders.entries()) {
    clients.push(await connect(url, s, { label: `S${c}`, ...(c % 2 === 0 ? {} : { transports: ['websocket'] }) }));
  }
  const acked = [];
  const inFlight = new Map();
  const unexpected = [];
  const loops = clients.map(async (client, c) => {
    const to = recipients[c % recipients.length];
    for (let i = 0; ; i += 1) {
      const payload = { to: to.user._id, text: `sock c${c} m${i}`, tempId: `sock-c${c}-m${i}` };
      inFlight.set(c, payload);
      let ack;
      try {
        ack = await client.call('message:send', payload, 15_000);
      } catch {
        return; // disconnected before the ack
      }
      if (ack.ok) { acked.push(ack.message); inFlight.delete(c); } else unexpected.push(JSON.stringify(ack));
    }
  });
  return { acked, inFlight, unexpected, done: Promise.all(loops).finally(() => { for (const c of clients) c.close(); }) };
}

/** HTTP senders: sequential POST /api/messages/send on keep-alive connections until refused. */
function httpSenders(url, senders, recipients) {
  const acked = [];
  const inFlight = new Map();
  const unexpected = [];
  const loops = senders.map(async (s, c) => {
    const client = new JsonClient(url);
    const to = recipients[c % recipients.length];
    try {
      for (let i = 0; ; i += 1) {
        const payload = { to: to.user._id, text: `http c${c} m${i}`, tempId: `http-c${c}-m${i}` };
        inFlight.set(c, payload);
        let res;
        try {
          res = await client.post('/api/messages/send', payload, s.token);
        } catch {
          return; // the connection was refused or reset: the server is gone
        }
        if (res.status === 201) { acked.push(res.body); inFlight.delete(c); } else unexpected.push(`${res.status} ${res.text}`);
      }
    } finally { client.close(); }
  });
  return { acked, inFlight, unexpected, done: Promise.all(loops) };
}

async function sigtermDuringSends(t, via) {
  const port = await freePort();
  let srv = await startServer({ env: { ...ENV, PORT: String(port) } });
  started.push(srv);
  const recipients = [await newUser(srv.url, { name: `${via} R0` }), await newUser(srv.url, { name: `${via} R1` })];
  const senders = [];
  for (let c = 0; c < SENDERS; c += 1) senders.push(await newUser(srv.url, { name: `${via} S${c}` }));
  // R0 acks what it receives, on the default transports; R1 acks nothing before the stop, WebSocket only.
  const r0 = new ChatClient(srv.url, { token: recipients[0].token, label: 'R0', autoAck: true, ...RECONNECT });
  const r1 = new ChatClient(srv.url, { token: recipients[1].token, label: 'R1', transports: ['websocket'], ...RECONNECT });
  await r0.connected$();
  await r1.connected$();

  const run = via === 'socket' ? await socketSenders(srv.url, senders, recipients) : httpSenders(srv.url, senders, recipients);
  const t0 = Date.now();
  await waitFor(() => Date.now() - t0 >= 500 && run.acked.length >= MIN_ACKED,
    { timeoutMs: 30_000, intervalMs: 10, what: `${MIN_ACKED} acknowledged sends` });
  // SIGTERM while the senders are still going.
  assert.equal(await srv.stop('SIGTERM'), 0, 'parleyd exits 0 after SIGTERM under load');
  await run.done;
  assert.deepEqual(run.unexpected.slice(0, 5), [], 'only successful answers before the stop');
  for (const r of [r0, r1]) {
    const reason = await r.waitDisconnect(5000);
    assert.notEqual(reason, 'io server disconnect', `${r.label}: a shutdown must not tell clients not to reconnect`);
  }
  const acked = [...run.acked];
  const inFlight = new Map(run.inFlight);
  t.diagnostic(`${via}: ${acked.length} acknowledged before SIGTERM, ${inFlight.size} in flight`);

  r1.autoAck = true; // from the restart on, R1 acks too
  srv = await srv.restart();
  started.push(srv);
  assert.equal(srv.port, port);

  // 1. The store: every acknowledged message once, seq 1..n per conversation, nothing twice.
  const stored = [];
  for (let c = 0; c < SENDERS; c += 1) {
    const list = await historyAfterSeq(srv.url, senders[c], recipients[c % recipients.length].user._id, { get: freshGet(srv.url) });
    list.forEach((m, i) => { if (m.seq !== i + 1) assert.fail(`S${c}: position ${i} has seq ${m.seq}`); });
    stored.push(...list);
  }
  const byId = new Map(stored.map((m) => [m._id, m]));
  const byText = new Map(stored.map((m) => [m.text, m]));
  assert.equal(byId.size, stored.length, 'no message stored twice (by id)');
  assert.equal(byText.size, stored.length, 'no message stored twice (by text)');
  let lost = 0;
  for (const m of acked) {
    const s = byId.get(m._id);
    if (!s) { lost += 1; continue; }
    assert.deepEqual([s.seq, s.text, s.from, s.to, s.conversationId, s.tempId], [m.seq, m.text, m.from, m.to, m.conversationId, m.tempId]);
  }
  assert.equal(lost, 0, `${lost} of ${acked.length} acknowledged messages are missing after the restart`);
  const unacked = stored.filter((m) => !acked.some((x) => x._id === m._id));
  t.diagnostic(`${via}: ${stored.length} stored, ${unacked.length} of them never acknowledged`);
  assert.ok(unacked.length <= inFlight.size, `${unacked.length} stored messages were never acknowledged, but only ${inFlight.size} sends were in flight`);
  for (const m of unacked) {
    assert.ok([...inFlight.values()].some((p) => p.text === m.text), `stored without an acknowledgement and not in flight: ${m.text}`);
  }

  // 2. The recipients reconnect by themselves and end up with every stored message, in order per connection.
  for (const [ri, r] of [r0, r1].entries()) {
    const mine = new Set(stored.filter((m) => m.to === recipients[ri].user._id).map((m) => m._id));
    await r.until(() => {
      const got = new Set(r.all('message:received').map((e) => e.args[0].message._id));
      for (const id of mine) if (!got.has(id)) return false;
      return r.connected && receivedPerConnection(r).length >= 2;
    }, { timeoutMs: 30_000, what: `${r.label}: reconnect and every stored message` });
    assertOrderPerConnection(r);
    const received = new Set(r.all('message:received').map((e) => e.args[0].message._id));
    for (const id of received) assert.ok(byId.has(id), `${r.label} received ${id}, which is not stored`);
  }
  // R1 acked nothing before the stop: all of its messages come again after the restart.
  const r1Mine = stored.filter((x) => x.to === recipients[1].user._id);
  const r1After = () => new Set(receivedPerConnection(r1).slice(1).flat().map((m) => m._id));
  await r1.until(() => r1Mine.every((m) => r1After().has(m._id)), { timeoutMs: 30_000, what: 'R1: every pending message replayed after the restart' })
    .catch(() => {
      const missing = r1Mine.filter((m) => !r1After().has(m._id));
      assert.fail(`R1: ${missing.length} of ${r1Mine.length} pending messages not replayed after the restart (first: seq ${missing[0]?.seq})`);
    });
  assertOrderPerConnection(r1);
  // Every ack is stored: every message ends up delivered.
  await waitFor(async () => {
    for (let c = 0; c < SENDERS; c += 1) {
      const list = await historyAfterSeq(srv.url, senders[c], recipients[c % recipients.length].user._id, { get: freshGet(srv.url) });
      if (!list.every((m) => m.delivered)) return false;
    }
    return true;
  }, { timeoutMs: 10_000, what: 'every message delivered after the recipients acked' });

  // 3. The in-flight sends retried with their tempId: the stored one comes back, nothing twice.
  for (const [c, payload] of inFlight) {
    const prior = byText.get(payload.text);
    if (via === 'socket') {
      const client = await connect(srv.url, senders[c], { label: `S${c} retry` });
      try {
        const ack = await client.call('message:send', payload);
        assert.equal(ack.ok, true, JSON.stringify(ack));
        if (prior) assert.equal(ack.message._id, prior._id, 'the retry answers with the stored message');
        else assert.ok(!byId.has(ack.message._id));
      } finally { client.close(); }
    } else {
      const client = new JsonClient(srv.url);
      try {
        const res = await client.post('/api/messages/send', payload, senders[c].token);
        assert.equal(res.status, prior ? 200 : 201, `retry of ${payload.text} (${prior ? 'stored' : 'not stored'} before the stop): ${res.text}`);
        if (prior) assert.equal(res.body._id, prior._id);
      } finally { client.close(); }
    }
  }
  for (let c = 0; c < SENDERS; c += 1) {
    const list = await historyAfterSeq(srv.url, senders[c], recipients[c % recipients.length].user._id, { get: freshGet(srv.url) });
    const texts = list.map((m) => m.text);
    assert.equal(new Set(texts).size, texts.length, `S${c}: a text stored twice after the retry`);
    list.forEach((m, i) => assert.equal(m.seq, i + 1));
  }
  r0.close();
  r1.close();
  await sessionsDrained(srv.url);
  assert.equal(await srv.stop(), 0);
}

test('SIGTERM during socket sends: every ok ack stored once, exit 0, recipients reconnect and get the rest', { timeout: 120_000 }, async (t) => {
  await sigtermDuringSends(t, 'socket');
});

test('SIGTERM during HTTP sends: every 201 stored once, exit 0, recipients reconnect and get the rest', { timeout: 120_000 }, async (t) => {
  await sigtermDuringSends(t, 'http');
});
