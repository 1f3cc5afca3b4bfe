// Group conversations over HTTP (contract v1.1): every route of the v1.1
// table and every error it names, the group and group message shapes, the
// derived receipt counts, unread counts from the join, ownership hand-over,
// and a removed member's access ending at removal.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, newUser } from './lib/server.mjs';
import { assertError, assertValidation } from './lib/checks.mjs';
import { send, history, historyAfterSeq, assertSeqRun } from './lib/messages.mjs';
import {
  assertGroup, assertGroupMessage, createGroup, createGroupOk, renameGroup, addMembers,
  removeMember, getConversation, sendToGroup,
} from './lib/groups.mjs';

const MAX = 4; // MAX_GROUP_MEMBERS for this server: small, to reach the limits
let srv;
before(async () => {
  srv = await startServer({ env: { BCRYPT_ROUNDS: '4', RATE_LIMIT_DISABLED: '1', MAX_GROUP_MEMBERS: String(MAX) } });
});
after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

const users = (n, tag) => Promise.all(Array.from({ length: n }, (_, i) => newUser(srv.url, { name: `${tag} ${i}` })));
const id = (u) => u.user._id;

test('create: 201 with the group as its owner sees it; members in the order given, duplicates and the caller ignored', async () => {
  const [owner, b, c] = await users(3, 'Create');
  const res = await createGroup(srv.url, owner, '  Weekend plans  ', [c, b, c, owner, b]);
  assert.equal(res.status, 201, res.text);
  const g = assertGroup(res.body, {
    name: 'Weekend plans', ownerId: id(owner), participants: [id(owner), id(c), id(b)],
    lastMessage: null, unreadCount: 0,
  });
  assert.equal(g.updatedAt, g.createdAt, 'no message yet: its activity is its creation');
  for (const who of [owner, b, c]) {
    const one = await getConversation(srv.url, who, g._id);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, g);
    const list = await request(srv.url, '/api/conversations', { token: who.token });
    assert.deepEqual(list.body.find((x) => x._id === g._id), g, 'listed as GET shows it');
  }
  // 64 characters after trim is the most; the name counts code points.
  const long = '\u00e9'.repeat(64);
  const ok = await createGroup(srv.url, owner, ` ${long} `, [b]);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.name, long);
});

test('create: every refusal', async () => {
  const [owner, b, c, d, e] = await users(5, 'Refuse');
  const post = (body) => request(srv.url, '/api/conversations', { method: 'POST', token: owner.token, body });
  assertValidation(await post({ type: 'direct', name: 'x', memberIds: [id(b)] }), ['type']);
  assertValidation(await post({ name: 'x', memberIds: [id(b)] }), ['type']);
  assertValidation(await post({ type: 'group', name: '   ', memberIds: [id(b)] }), ['name'], { exact: true });
  assertValidation(await post({ type: 'group', memberIds: [id(b)] }), ['name'], { exact: true });
  assertValidation(await post({ type: 'group', name: 'x'.repeat(65), memberIds: [id(b)] }), ['name']);
  assertValidation(await post({ type: 'group', name: 7, memberIds: [id(b)] }), ['name']);
  assertValidation(await post({ type: 'group', name: 'x', memberIds: [] }), ['memberIds'], { exact: true });
  assertValidation(await post({ type: 'group', name: 'x', memberIds: [id(owner)] }), ['memberIds']);
  assertValidation(await post({ type: 'group', name: 'x' }), ['memberIds']);
  assertValidation(await post({ type: 'group', name: 'x', memberIds: id(b) }), ['memberIds']);
  assertValidation(await post({ type: 'group', name: 'x', memberIds: [id(b), 5] }), ['memberIds']);
  // MAX_GROUP_MEMBERS - 1 others at most (the owner is a member too).
  assertValidation(await post({ type: 'group', name: 'x', memberIds: [id(b), id(c), id(d), id(e)] }), ['memberIds']);
  assert.equal((await post({ type: 'group', name: 'x', memberIds: [id(b), id(c), id(d)] })).status, 201);
  // Unknown or impossible user ids.
  assertError(await post({ type: 'group', name: 'x', memberIds: [id(b), '0123456789abcdef01234567'] }), 404, 'not_found');
  assertError(await post({ type: 'group', name: 'x', memberIds: ['nope'] }), 404, 'not_found');
  assertError(await request(srv.url, '/api/conversations', { method: 'POST', body: { type: 'group', name: 'x', memberIds: [id(b)] } }), 401, 'unauthorized');
  assertError(await request(srv.url, '/api/conversations', { method: 'POST', token: owner.token, body: '{"type":', contentType: 'application/json' }), 400, 'invalid_json');
  // Nothing was created by a refusal.
  const list = await request(srv.url, '/api/conversations', { token: b.token });
  assert.equal(list.body.length, 1);
});

test('messages by conversationId: one stored message, to null, counts of the members it counts for; history and afterSeq', async () => {
  const [a, b, c, outsider] = await users(4, 'Talk');
  const g = await createGroupOk(srv.url, a, 'Talk', [b, c]);
  const first = await sendToGroup(srv.url, a, g._id, 'hello all', { tempId: 't1' });
  assert.equal(first.status, 201, first.text);
  assertGroupMessage(first.body, {
    conversationId: g._id, seq: 1, from: id(a), text: 'hello all', tempId: 't1',
    delivered: false, read: false, deliveredCount: 0, readCount: 0,
  });
  const retry = await sendToGroup(srv.url, a, g._id, 'hello all', { tempId: 't1' });
  assert.equal(retry.status, 200, 'a retried tempId is the original');
  assert.equal(retry.body._id, first.body._id);
  const second = await sendToGroup(srv.url, b, g._id, 'hi a');
  assert.equal(second.status, 201);
  assert.equal(second.body.seq, 2);

  for (const who of [a, b, c]) {
    const h = await history(srv.url, who, g._id);
    assert.equal(h.status, 200, h.text);
    assertSeqRun(h.body, 2);
    h.body.forEach((m) => assertGroupMessage(m));
  }
  assert.deepEqual((await historyAfterSeq(srv.url, c, g._id)).map((m) => m.text), ['hello all', 'hi a']);
  assertValidation(await history(srv.url, c, g._id, { afterSeq: 0, before: first.body._id }), ['afterSeq']);
  assertError(await history(srv.url, outsider, g._id), 404, 'not_found');
  assertError(await sendToGroup(srv.url, outsider, g._id, 'let me in'), 404, 'not_found');
  // Exactly one of to and conversationId.
  assertValidation(await request(srv.url, '/api/messages/send', { method: 'POST', token: a.token, body: { to: id(b), conversationId: g._id, text: 'x' } }), ['conversationId']);
  assertValidation(await request(srv.url, '/api/messages/send', { method: 'POST', token: a.token, body: { text: 'x' } }), ['to']);

  // Read: by c up to the last message by another member; counts follow.
  const read = await request(srv.url, `/api/messages/${g._id}/read`, { method: 'POST', token: c.token, body: {} });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.body.upTo, second.body._id);
  assert.equal(read.body.count, 2);
  let h = (await history(srv.url, a, g._id)).body;
  assertGroupMessage(h[0], { deliveredCount: 1, readCount: 1, delivered: false, read: false });
  assertGroupMessage(h[1], { deliveredCount: 1, readCount: 1, delivered: false, read: false });
  // b reads too: a's message is now read by every other member.
  assert.equal((await request(srv.url, `/api/messages/${g._id}/read`, { method: 'POST', token: b.token, body: {} })).body.count, 1);
  h = (await history(srv.url, a, g._id)).body;
  assertGroupMessage(h[0], { deliveredCount: 2, readCount: 2, delivered: true, read: true });
  assert.ok(Date.parse(h[0].readAt) >= Date.parse(read.body.readAt), 'the time of the last member');
  // b's own message counts for a and c: c has read it, a has not.
  assertGroupMessage(h[1], { deliveredCount: 1, readCount: 1, delivered: false, read: false });
  const list = (await request(srv.url, '/api/conversations', { token: a.token })).body;
  assert.equal(list[0]._id, g._id, 'the latest activity first');
  assert.equal(list[0].unreadCount, 1);
  assert.equal(list[0].updatedAt, second.body.createdAt);
});

test('rename: any member, the name as on create; a direct conversation or a stranger is refused', async () => {
  const [a, b, c] = await users(3, 'Rename');
  const g = await createGroupOk(srv.url, a, 'Old', [b]);
  const res = await renameGroup(srv.url, b, g._id, '  New name ');
  assert.equal(res.status, 200, res.text);
  assertGroup(res.body, { name: 'New name', ownerId: id(a) });
  assert.equal((await getConversation(srv.url, a, g._id)).body.name, 'New name');
  assertValidation(await renameGroup(srv.url, a, g._id, ''), ['name']);
  assertValidation(await renameGroup(srv.url, a, g._id, 'y'.repeat(65)), ['name']);
  assertValidation(await request(srv.url, `/api/conversations/${g._id}`, { method: 'PATCH', token: a.token, body: {} }), ['name']);
  assertError(await renameGroup(srv.url, c, g._id, 'Mine now'), 404, 'not_found');
  const direct = await send(srv.url, a, c, 'hi');
  assertValidation(await renameGroup(srv.url, a, direct.body.conversationId, 'Group?'), ['conversation']);
  assertError(await renameGroup(srv.url, a, '0123456789abcdef01234567', 'x'), 404, 'not_found');
});

test('add members: owner only, in order, existing ignored, the limit; new members read the whole history and count from their join', async () => {
  const [owner, b, c, d, e] = await users(5, 'Add');
  const g = await createGroupOk(srv.url, owner, 'Add', [b]);
  assert.equal((await sendToGroup(srv.url, b, g._id, 'before c joined')).status, 201);
  assertError(await addMembers(srv.url, b, g._id, [c]), 403, 'forbidden');
  assertError(await addMembers(srv.url, c, g._id, [c]), 404, 'not_found');
  assertValidation(await addMembers(srv.url, owner, g._id, []), ['userIds']);
  assertValidation(await request(srv.url, `/api/conversations/${g._id}/members`, { method: 'POST', token: owner.token, body: { userIds: 'x' } }), ['userIds']);
  assertError(await addMembers(srv.url, owner, g._id, [c, '0123456789abcdef01234567']), 404, 'not_found');
  assert.deepEqual((await getConversation(srv.url, owner, g._id)).body.participants, [id(owner), id(b)], 'a refusal adds nobody');

  const res = await addMembers(srv.url, owner, g._id, [d, b, c, d]);
  assert.equal(res.status, 200, res.text);
  assertGroup(res.body, { participants: [id(owner), id(b), id(d), id(c)] });
  // Only existing members: 200, no change.
  const same = await addMembers(srv.url, owner, g._id, [b, c]);
  assert.equal(same.status, 200, same.text);
  assert.deepEqual(same.body.participants, [id(owner), id(b), id(d), id(c)]);
  // MAX_GROUP_MEMBERS in all.
  assertValidation(await addMembers(srv.url, owner, g._id, [e]), ['userIds']);
  // More distinct ids than any group can hold: refused before any is looked up.
  const many = Array.from({ length: MAX + 1 }, (_, i) => `0123456789abcdef0123456${i}`);
  assertValidation(await request(srv.url, `/api/conversations/${g._id}/members`, { method: 'POST', token: owner.token, body: { userIds: many } }), ['userIds']);

  // c reads the whole history, but nothing before the join is unread or
  // pending for them, and the old message does not count c.
  const hc = await history(srv.url, c, g._id);
  assert.deepEqual(hc.body.map((m) => m.text), ['before c joined']);
  const cv = (await getConversation(srv.url, c, g._id)).body;
  assert.equal(cv.unreadCount, 0);
  assert.equal((await request(srv.url, `/api/messages/${g._id}/read`, { method: 'POST', token: owner.token, body: {} })).status, 200);
  assertGroupMessage((await history(srv.url, b, g._id)).body[0], { deliveredCount: 1, readCount: 1, delivered: true, read: true });
  const after = await sendToGroup(srv.url, owner, g._id, 'after c joined');
  assertGroupMessage(after.body, { deliveredCount: 0 });
  assert.equal((await getConversation(srv.url, c, g._id)).body.unreadCount, 1);
  const direct = await send(srv.url, owner, e, 'hi');
  assertValidation(await addMembers(srv.url, owner, direct.body.conversationId, [b]), ['conversation']);
});

test('remove and leave: the owner removes anyone, others only themselves; ownership passes on; a removed member gets 404 from then on', async () => {
  const [owner, b, c, d] = await users(4, 'Remove');
  const g = await createGroupOk(srv.url, owner, 'Remove', [b, c, d]);
  assertError(await removeMember(srv.url, b, g._id, c), 403, 'forbidden');
  assertError(await removeMember(srv.url, owner, g._id, '0123456789abcdef01234567'), 404, 'not_found');
  const res = await removeMember(srv.url, owner, g._id, c);
  assert.equal(res.status, 200, res.text);
  assertGroup(res.body, { participants: [id(owner), id(b), id(d)] });
  assertError(await removeMember(srv.url, owner, g._id, c), 404, 'not_found');
  for (const r of [
    await getConversation(srv.url, c, g._id), await history(srv.url, c, g._id),
    await sendToGroup(srv.url, c, g._id, 'still here?'), await renameGroup(srv.url, c, g._id, 'x'),
    await request(srv.url, `/api/messages/${g._id}/read`, { method: 'POST', token: c.token, body: {} }),
  ]) assertError(r, 404, 'not_found');
  assert.equal((await request(srv.url, '/api/conversations', { token: c.token })).body.length, 0);

  // The owner leaves: the next member in join order owns the group.
  const left = await removeMember(srv.url, owner, g._id, owner);
  assert.equal(left.status, 200, left.text);
  assert.deepEqual(left.body, { left: true });
  const now = assertGroup((await getConversation(srv.url, b, g._id)).body);
  assert.equal(now.ownerId, id(b));
  assert.deepEqual(now.participants, [id(b), id(d)]);
  assertError(await getConversation(srv.url, owner, g._id), 404, 'not_found');
  assert.equal((await addMembers(srv.url, b, g._id, [owner])).status, 200, 'the new owner adds members');
  assertError(await addMembers(srv.url, d, g._id, [c]), 403, 'forbidden');
  // Everyone leaves: the group stays, with no members.
  for (const who of [d, b, owner]) assert.deepEqual((await removeMember(srv.url, who, g._id, who)).body, { left: true });
  for (const who of [owner, b, c, d]) assertError(await getConversation(srv.url, who, g._id), 404, 'not_found');
  const direct = await send(srv.url, b, d, 'hi');
  assertValidation(await removeMember(srv.url, b, direct.body.conversationId, d), ['conversation']);
});

test('a member added again after removal counts only from the new join', async () => {
  const [owner, b] = await users(2, 'Again');
  const g = await createGroupOk(srv.url, owner, 'Again', [b]);
  await sendToGroup(srv.url, owner, g._id, 'one');
  await removeMember(srv.url, owner, g._id, b);
  await sendToGroup(srv.url, owner, g._id, 'two (b away)');
  assert.equal((await addMembers(srv.url, owner, g._id, [b])).status, 200);
  const cv = (await getConversation(srv.url, b, g._id)).body;
  assert.equal(cv.unreadCount, 0, 'nothing from before the new join is unread');
  const h = (await history(srv.url, owner, g._id)).body;
  assert.deepEqual(h.map((m) => [m.text, m.deliveredCount, m.delivered]), [['one', 0, false], ['two (b away)', 0, false]],
    'b counts for neither message: not a member when they were sent');
});
