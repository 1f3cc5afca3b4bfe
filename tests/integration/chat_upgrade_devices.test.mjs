// One user on two devices at once: one stays on HTTP long-polling, the other
// connects on polling and upgrades to WebSocket while messages keep coming.
// The upgrade is held back (its WebSocket transport opens only when the test
// says so) until the upgrading device has received messages over polling, so
// the stream always crosses the upgrade. Every message reaches both devices,
// each exactly once and in seq order; both devices ack; the sender gets one
// message:delivered per message; sends from either device during and after
// the upgrade are acked and reach the other device and the peer.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { NodeXHR, NodeWebSocket } from 'socket.io-client';
import { startServer, newUser, waitFor } from './lib/server.mjs';
import { historyAfterSeq } from './lib/messages.mjs';
import { BASE_ENV, ChatClient, connect, barrier, closeAll, sessionsDrained } from './lib/chat.mjs';

const STREAMS = 3;        // concurrent send loops of the peer
const ON_POLLING = 20;    // messages the upgrading device gets before the upgrade may start
const ON_WEBSOCKET = 40;  // and after it

let srv;
after(async () => {
  closeAll();
  if (srv && srv.proc.exitCode === null && srv.proc.signalCode === null) await srv.stop();
});

/** A WebSocket transport whose connection starts only once `gate` resolves. */
function gatedWebSocket(gate) {
  return class GatedWebSocket extends NodeWebSocket {
    doOpen() {
      gate.then(() => { if (this.readyState === 'opening') super.doOpen(); });
    }
  };
}

/** message:received ids of `client`, with the transport each arrived on. */
function track(client) {
  const seen = [];
  client.socket.onAny((event, payload) => {
    if (event === 'message:received') seen.push({ m: payload.message, transport: client.transport });
  });
  return seen;
}

test('a polling device and an upgrading device of one user both get every message in seq order, across the upgrade', { timeout: 60_000 }, async (t) => {
  srv = await startServer({ env: BASE_ENV });
  const a = await newUser(srv.url, { name: 'Upgrade Peer' });
  const b = await newUser(srv.url, { name: 'Upgrade Owner' });
  const c = await newUser(srv.url, { name: 'Upgrade Prober' });

  const ca = await connect(srv.url, a, { label: 'A', transports: ['websocket'], autoAck: true });
  const polling = await connect(srv.url, b, { label: 'B polling', transports: ['polling'], autoAck: true });
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const upgrading = new ChatClient(srv.url, { token: b.token, label: 'B upgrading', transports: [NodeXHR, gatedWebSocket(gate)], autoAck: true });
  const onPolling = track(polling);
  const onUpgrading = track(upgrading);
  await upgrading.connected$();
  assert.equal(upgrading.transport, 'polling');
  const upgraded = new Promise((resolve) => upgrading.socket.io.engine.once('upgrade', (tr) => resolve(tr.name)));

  // The peer sends in STREAMS concurrent loops until told to stop.
  const sent = [];
  const failures = [];
  let stop = false;
  const loops = Array.from({ length: STREAMS }, async (_, s) => {
    for (let i = 0; !stop; i += 1) {
      const ack = await ca.call('message:send', { to: b.user._id, text: `peer s${s} m${i}` });
      if (ack.ok) sent.push(ack.message); else { failures.push(JSON.stringify(ack)); return; }
    }
  });

  let duringUpgrade;
  let fromPolling;
  try {
    await upgrading.until(() => onUpgrading.length >= ON_POLLING, { timeoutMs: 10_000, what: `${ON_POLLING} messages over polling` });
    assert.ok(onUpgrading.every((x) => x.transport === 'polling'), 'before the gate opens everything comes over polling');
    release();
    // Sends from both devices while the upgrade runs.
    [duringUpgrade, fromPolling] = await Promise.all([
      upgrading.call('message:send', { to: a.user._id, text: 'from the upgrading device, during the upgrade' }),
      polling.call('message:send', { to: a.user._id, text: 'from the polling device, during the upgrade' }),
    ]);
    assert.equal(await upgraded, 'websocket');
    const mark = onUpgrading.length;
    await upgrading.until(() => onUpgrading.length >= mark + ON_WEBSOCKET, { timeoutMs: 10_000, what: `${ON_WEBSOCKET} messages over WebSocket` });
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  assert.deepEqual(failures, [], 'every send of the peer is acked ok');
  assert.equal(duringUpgrade.ok, true, JSON.stringify(duringUpgrade));
  assert.equal(fromPolling.ok, true, JSON.stringify(fromPolling));
  const afterUpgrade = await upgrading.send(a, 'from the upgraded device');
  assert.equal(upgrading.transport, 'websocket');
  assert.equal(polling.transport, 'polling');
  const own = [duringUpgrade.message, fromPolling.message, afterUpgrade];

  // Everything stored is the truth: wait until both devices have all of it.
  const stored = await historyAfterSeq(srv.url, b, a.user._id);
  assert.equal(stored.length, sent.length + own.length);
  const mineFrom = (dev) => (m) => !(dev === 'upgrading' ? [own[0]._id, own[2]._id] : [own[1]._id]).includes(m._id);
  for (const [dev, seen] of [['polling', onPolling], ['upgrading', onUpgrading]]) {
    // A device gets the peer's messages and the copies of what the other device sent, not its own.
    const want = stored.filter(mineFrom(dev));
    const client = dev === 'polling' ? polling : upgrading;
    await client.until(() => want.every((m) => seen.some((x) => x.m._id === m._id)), { timeoutMs: 10_000, what: `${dev}: every message` });
    const ids = seen.map((x) => x.m._id);
    assert.equal(new Set(ids).size, ids.length, `${dev}: no message twice`);
    assert.deepEqual(seen.map((x) => x.m.seq), want.map((m) => m.seq), `${dev}: exactly the conversation, in seq order`);
    t.diagnostic(`${dev}: ${seen.filter((x) => x.transport === 'polling').length} over polling, ${seen.filter((x) => x.transport === 'websocket').length} over WebSocket`);
  }
  assert.ok(onPolling.every((x) => x.transport === 'polling'));
  assert.ok(onUpgrading.some((x) => x.transport === 'websocket'), 'the upgrading device received over WebSocket too');

  // The peer gets the device copies of B's sends, and one message:delivered per message it sent.
  for (const m of own) await ca.waitReceived(m._id);
  await waitFor(async () => (await historyAfterSeq(srv.url, a, b.user._id)).filter((m) => m.from === a.user._id).every((m) => m.delivered),
    { timeoutMs: 10_000, what: 'every peer message delivered' });
  await barrier(srv.url, c, a, [ca]);
  for (const m of sent) {
    const n = ca.all('message:delivered', (p) => p.messageId === m._id).length;
    if (n !== 1) assert.fail(`${n} message:delivered for seq ${m.seq}`);
  }
  t.diagnostic(`${sent.length} peer messages, ${STREAMS} concurrent streams`);

  ca.close();
  polling.close();
  upgrading.close();
  await sessionsDrained(srv.url);
  assert.equal(await srv.stop(), 0);
});
