// Group conversations over Socket.IO (contract v1.1), with the official
// socket.io-client: three members on two devices each. Fan-out of
// message:received, message:delivered once per member with userId, group
// read receipts and typing, conversation:updated on every change (the
// removed member once, then nothing), at-least-once delivery and seq order
// per device, the replay on connect, and the rate limit on group sends.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, newUser, waitFor } from './lib/server.mjs';
import { TRANSPORT_MODES, BASE_ENV, closeAll, connect, onlineSnapshot } from './lib/chat.mjs';
import { history, historyAfterSeq, assertSeqRun } from './lib/messages.mjs';
import {
  assertGroup, assertGroupMessage, createGroupOk, renameGroup, addMembers, removeMember, sendToGroup,
} from './lib/groups.mjs';

let srv;
before(async () => { srv = await startServer({ env: BASE_ENV }); });
after(async () => { closeAll(); if (srv) assert.equal(await srv.stop(), 0); });
afterEach(() => closeAll());

const id = (u) => u.user._id;
const users = (n, tag) => Promise.all(Array.from({ length: n }, (_, i) => newUser(srv.url, { name: `${tag} ${i}` })));

/** Two devices per user, each past its users:online snapshot. */
async function devices(list, opts) {
  const out = [];
  for (const u of list) {
    const pair = [await connect(srv.url, u, { ...opts, label: `${u.name} #1` }), await connect(srv.url, u, { ...opts, label: `${u.name} #2` })];
    for (const d of pair) await onlineSnapshot(d);
    out.push(pair);
  }
  return out;
}

/** Sends to the group over HTTP and waits until every device in `clients` has it (acking it): events sent to them before it have arrived. */
async function groupBarrier(from, groupId, clients) {
  const res = await sendToGroup(srv.url, from, groupId, `barrier ${Date.now()}`);
  assert.equal(res.status, 201, res.text);
  for (const c of clients) {
    const e = await c.waitReceived(res.body._id);
    if (e.ack) e.ack();
  }
  return res.body;
}

for (const mode of TRANSPORT_MODES) {
  test(`${mode.name}: fan-out to every other member's devices and the sender's other device; delivered once per member; read and typing to the others`, async () => {
    const [a, b, c] = await users(3, `Fan ${mode.name}`);
    const [[a1, a2], [b1, b2], [c1, c2]] = await devices([a, b, c], mode.opts);
    const g = await createGroupOk(srv.url, a, 'Fan-out', [b, c]);
    for (const d of [a1, a2, b1, b2, c1, c2]) await d.waitEvent('conversation:updated', (p) => p.conversation._id === g._id);

    const ack = await a1.call('message:send', { conversationId: g._id, text: 'to the group', tempId: 'g-1' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const m = assertGroupMessage(ack.message, { from: id(a), seq: 1, tempId: 'g-1', deliveredCount: 0 });
    const got = {};
    for (const d of [a2, b1, b2, c1, c2]) {
      got[d.label] = await d.waitReceived(m._id);
      assertGroupMessage(got[d.label].args[0].message, { _id: m._id, text: 'to the group' });
      assert.equal(typeof got[d.label].ack, 'function', 'message:received asks for an ack');
    }
    // Every device acks; b's two devices count once.
    for (const d of [a2, b1, b2, c2]) got[d.label].ack({ ok: true });
    for (const s of [a1, a2]) {
      for (const member of [b, c]) {
        const e = await s.waitEvent('message:delivered', (p) => p.messageId === m._id && p.userId === id(member));
        assert.deepEqual(Object.keys(e.args[0]).sort(), ['conversationId', 'deliveredAt', 'messageId', 'userId']);
        assert.equal(e.args[0].conversationId, g._id);
      }
    }
    // Nobody else hears of deliveries; b and c have it delivered, so the
    // message is delivered to all.
    const h = await history(srv.url, a, g._id);
    assertGroupMessage(h.body[0], { deliveredCount: 2, readCount: 0, delivered: true, read: false });
    for (const d of [b1, b2, c1, c2]) assert.equal(d.all('message:delivered').length, 0, `${d.label}: no receipts`);
    for (const s of [a1, a2]) {
      assert.equal(s.all('message:delivered', (p) => p.messageId === m._id).length, 2, 'once per member');
    }
    assert.equal(a1.received(m._id).length, 0, 'not echoed to the sending device');

    // Read by b: to a's and c's sockets, not b's own.
    const r = await b1.call('message:read', { conversationId: g._id });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.upTo, m._id);
    for (const d of [a1, a2, c1, c2]) {
      const e = await d.waitEvent('message:read', (p) => p.readerId === id(b));
      assert.deepEqual(e.args[0], { conversationId: g._id, readerId: id(b), upTo: m._id, readAt: r.readAt });
    }
    await c2.call('message:read', { conversationId: g._id });
    await a1.waitEvent('message:read', (p) => p.readerId === id(c));
    assertGroupMessage((await history(srv.url, b, g._id)).body[0], { readCount: 2, read: true });

    // Typing by conversationId: to the other members' sockets only.
    c1.emit('typing', { conversationId: g._id, isTyping: true });
    for (const d of [a1, a2, b1, b2]) {
      const e = await d.waitEvent('typing', (p) => p.from === id(c));
      assert.deepEqual(e.args[0], { from: id(c), conversationId: g._id, isTyping: true });
    }
    c1.emit('typing', { conversationId: g._id, isTyping: false });
    await b2.waitEvent('typing', (p) => p.from === id(c) && p.isTyping === false);
    await groupBarrier(a, g._id, [a2, b1, b2, c1, c2]);
    for (const d of [c1, c2]) assert.equal(d.all('typing').length, 0, `${d.label}: its own typing is not echoed`);
    for (const d of [b1, b2]) assert.equal(d.all('message:read', (p) => p.readerId === id(b)).length, 0, 'a reader is not told of its own read');
  });
}

test('conversation:updated on create, rename, add and remove, as each member sees the group; the removed member once, then nothing from it', async () => {
  const [a, b, c, d] = await users(4, 'Updated');
  const [[a1, a2], [b1, b2], [c1, c2], [d1, d2]] = await devices([a, b, c, d]);
  const g = await createGroupOk(srv.url, a, 'Plans', [b, c]);
  for (const dev of [a1, a2, b1, b2, c1, c2]) {
    const e = await dev.waitEvent('conversation:updated');
    assertGroup(e.args[0].conversation, { _id: g._id, name: 'Plans', participants: [id(a), id(b), id(c)], unreadCount: 0 });
  }
  // b has an unread message when the group is renamed: b's view says so.
  await sendToGroup(srv.url, c, g._id, 'unread by b');
  assert.equal((await renameGroup(srv.url, c, g._id, 'Better plans')).status, 200);
  for (const [dev, unread] of [[a1, 1], [b2, 1], [c1, 0]]) {
    const e = await dev.waitEvent('conversation:updated', (p) => p.conversation.name === 'Better plans');
    assertGroup(e.args[0].conversation, { unreadCount: unread });
    assert.equal(e.args[0].conversation.lastMessage.text, 'unread by b');
  }
  assert.equal((await addMembers(srv.url, a, g._id, [d])).status, 200);
  for (const dev of [a1, b1, c2, d1, d2]) {
    const e = await dev.waitEvent('conversation:updated', (p) => p.conversation.participants.length === 4);
    assertGroup(e.args[0].conversation, { participants: [id(a), id(b), id(c), id(d)] });
  }
  assert.equal((await addMembers(srv.url, a, g._id, [d])).status, 200, 'only existing members: no change');

  assert.equal((await removeMember(srv.url, a, g._id, c)).status, 200);
  const withoutC = (p) => !p.conversation.participants.includes(id(c));
  for (const dev of [a1, a2, b1, b2, d1, d2, c1, c2]) {
    const e = await dev.waitEvent('conversation:updated', withoutC);
    assertGroup(e.args[0].conversation, { participants: [id(a), id(b), id(d)] });
  }
  for (const dev of [c1, c2]) {
    assert.equal(dev.all('conversation:updated', withoutC).length, 1);
    assert.equal(dev.all('conversation:updated', withoutC)[0].args[0].conversation.unreadCount, 0);
  }
  // After removal: no message, typing, read or update reaches c.
  b1.emit('typing', { conversationId: g._id, isTyping: true });
  await a1.waitEvent('typing', (p) => p.from === id(b));
  await b2.call('message:read', { conversationId: g._id });
  assert.equal((await renameGroup(srv.url, a, g._id, 'Without c')).status, 200);
  await groupBarrier(a, g._id, [b1, b2, d1, d2]);
  await d1.waitEvent('conversation:updated', (p) => p.conversation.name === 'Without c');
  for (const dev of [c1, c2]) {
    assert.equal(dev.all('conversation:updated').length, 4, `${dev.label}: create, rename, add, remove: nothing after`);
    assert.equal(dev.all('message:received').length, 1, `${dev.label}: only the message sent while a member`);
    assert.equal(dev.all('typing').length, 0);
    assert.equal(dev.all('message:read').length, 0);
  }
  // ...nor on reconnect: nothing pending from the group.
  c1.close(); c2.close();
  const c3 = await connect(srv.url, c, { label: 'c #3' });
  await onlineSnapshot(c3);
  await groupBarrier(b, g._id, [a1, d1]);
  const ping = await request(srv.url, '/api/messages/send', { method: 'POST', token: a.token, body: { to: id(c), text: 'direct still works' } });
  await c3.waitReceived(ping.body._id);
  assert.deepEqual(c3.all('message:received').map((e) => e.args[0].message.conversationId),
    [ping.body.conversationId], 'the removed member gets nothing from the group');
});

test('concurrent senders on six devices: one gapless seq, and every device sees each conversation in seq order', async () => {
  const [a, b, c] = await users(3, 'Concurrent');
  const devs = (await devices([a, b, c], { autoAck: true })).flat();
  const g = await createGroupOk(srv.url, a, 'Busy', [b, c]);
  const PER_DEVICE = 25;
  const acks = await Promise.all(devs.map((dev, i) => Promise.all(Array.from({ length: PER_DEVICE }, (_, k) =>
    dev.call('message:send', { conversationId: g._id, text: `${i}/${k}`, tempId: `c-${i}-${k}` })))));
  const sent = acks.flat();
  for (const x of sent) assert.equal(x.ok, true, JSON.stringify(x));
  const total = devs.length * PER_DEVICE;
  assertSeqRun([...sent.map((x) => x.message)].sort((p, q) => p.seq - q.seq), total);
  assertSeqRun(await historyAfterSeq(srv.url, c, g._id), total);
  for (const dev of devs) {
    const own = new Set(sent.filter((x, j) => Math.floor(j / PER_DEVICE) === devs.indexOf(dev)).map((x) => x.message._id));
    await dev.until(() => dev.all('message:received').length >= total - own.size, { what: `${total - own.size} messages`, timeoutMs: 20_000 });
    const seqs = dev.all('message:received').map((e) => e.args[0].message.seq);
    assert.equal(seqs.length, total - own.size, `${dev.label}: each message once`);
    for (let i = 1; i < seqs.length; i += 1) assert.ok(seqs[i] > seqs[i - 1], `${dev.label}: seq order at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
  }
});

test('a member offline during a burst gets every message on connect, oldest first, once acked never again', async () => {
  const [a, b, d] = await users(3, 'Offline');
  const g = await createGroupOk(srv.url, a, 'Burst', [b, d]);
  const N = 120; // more than one replay page
  for (let i = 0; i < N; i += 1) {
    const res = await sendToGroup(srv.url, i % 2 ? a : b, g._id, `burst ${i}`);
    assert.equal(res.status, 201, res.text);
  }
  const d1 = await connect(srv.url, d, { label: 'd #1', autoAck: true });
  await d1.until(() => d1.all('message:received').length >= N, { what: `${N} replayed`, timeoutMs: 20_000 });
  const got = d1.all('message:received').map((e) => e.args[0].message);
  assert.deepEqual(got.map((m) => m.text), Array.from({ length: N }, (_, i) => `burst ${i}`));
  got.forEach((m) => assertGroupMessage(m));
  // Acked: delivered to d (the last message counts d as delivered), so
  // nothing of the burst is pending on the next connect.
  await waitFor(async () => (await history(srv.url, a, g._id, { limit: 1 })).body[0].deliveredCount >= 1,
    { what: 'the last acked message delivered to d' });
  d1.close();
  const probe = await sendToGroup(srv.url, a, g._id, 'after the replay');
  const d2 = await connect(srv.url, d, { label: 'd #2' });
  const first = await d2.waitEvent('message:received');
  assert.equal(first.args[0].message._id, probe.body._id, 'only what was not acked comes again');
});

test('the per-user send rate limit covers group sends; a group send is one stored message', async () => {
  // A bucket of 3 that refills once a second: the fourth send, back to
  // back with the first three, finds it empty.
  const limited = await startServer({ env: { BCRYPT_ROUNDS: '4', RATE_LIMIT_MESSAGES_PER_SEC: '1', RATE_LIMIT_MESSAGES_BURST: '3', RATE_LIMIT_AUTH_PER_MIN: '10000' } });
  try {
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((n) => newUser(limited.url, { name: `Limited ${n}` })));
    const g = (await request(limited.url, '/api/conversations', { method: 'POST', token: a.token, body: { type: 'group', name: 'L', memberIds: [id(b), id(c)] } })).body;
    for (let i = 0; i < 3; i += 1) assert.equal((await sendToGroup(limited.url, a, g._id, `m${i}`)).status, 201);
    const over = await sendToGroup(limited.url, a, g._id, 'one too many');
    assert.equal(over.status, 429, over.text);
    assert.equal(over.body.error, 'rate_limited');
    const sock = await connect(limited.url, a, { label: 'a' });
    const ack = await sock.call('message:send', { conversationId: g._id, text: 'over the socket' });
    assert.equal(ack.ok, false);
    assert.equal(ack.error, 'rate_limited');
    const h = await history(limited.url, b, g._id);
    assert.deepEqual(h.body.map((m) => m.text), ['m0', 'm1', 'm2'], 'three stored messages for three members each');
    sock.close();
  } finally {
    closeAll();
    assert.equal(await limited.stop(), 0);
  }
});
