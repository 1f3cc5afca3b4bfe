// Helpers for the group conversation tests (contract v1.1): the group and
// group message shapes, and the group routes.

import assert from 'node:assert/strict';
import { ID_RE, ISO_MS_RE, request } from './server.mjs';

const GROUP_MESSAGE_KEYS = ['_id', 'conversationId', 'seq', 'from', 'to', 'text', 'createdAt',
  'delivered', 'deliveredAt', 'read', 'readAt', 'deliveredCount', 'readCount'];

/** Asserts the exact shape of a message in a group; `expect` fields are compared too. */
export function assertGroupMessage(m, expect = {}) {
  assert.ok(m && typeof m === 'object' && !Array.isArray(m), `message: ${JSON.stringify(m)}`);
  const keys = Object.hasOwn(m, 'tempId') ? [...GROUP_MESSAGE_KEYS, 'tempId'] : GROUP_MESSAGE_KEYS;
  assert.deepEqual(Object.keys(m).sort(), [...keys].sort(), `group message keys: ${JSON.stringify(m)}`);
  assert.match(m._id, ID_RE);
  assert.match(m.conversationId, ID_RE);
  assert.match(m.from, ID_RE);
  assert.equal(m.to, null, 'a group message has no `to`');
  assert.ok(Number.isInteger(m.seq) && m.seq >= 1, `seq: ${m.seq}`);
  assert.match(m.createdAt, ISO_MS_RE);
  assert.ok(Number.isInteger(m.deliveredCount) && m.deliveredCount >= 0, `deliveredCount: ${m.deliveredCount}`);
  assert.ok(Number.isInteger(m.readCount) && m.readCount >= 0 && m.readCount <= m.deliveredCount,
    `readCount ${m.readCount} <= deliveredCount ${m.deliveredCount}`);
  if (m.delivered) assert.match(m.deliveredAt ?? '', ISO_MS_RE);
  else assert.equal(m.deliveredAt, null);
  if (m.read) {
    assert.match(m.readAt ?? '', ISO_MS_RE);
    assert.ok(m.delivered, 'read by all is delivered to all');
  } else {
    assert.equal(m.readAt, null);
  }
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(m[k], v, `message.${k}`);
  return m;
}

/** Asserts the exact Conversation shape of a group; `expect` fields are compared too. */
export function assertGroup(c, expect = {}) {
  assert.deepEqual(Object.keys(c).sort(),
    ['_id', 'type', 'name', 'ownerId', 'participants', 'lastMessage', 'unreadCount', 'createdAt', 'updatedAt'].sort(),
    `group keys: ${JSON.stringify(c)}`);
  assert.match(c._id, ID_RE);
  assert.equal(c.type, 'group');
  assert.equal(typeof c.name, 'string');
  assert.ok(Array.isArray(c.participants), 'participants');
  for (const p of c.participants) assert.match(p, ID_RE);
  if (c.participants.length > 0) assert.equal(c.ownerId, c.participants[0], 'the owner is listed first');
  assert.ok(Number.isInteger(c.unreadCount) && c.unreadCount >= 0, `unreadCount: ${c.unreadCount}`);
  assert.match(c.createdAt, ISO_MS_RE);
  assert.match(c.updatedAt, ISO_MS_RE);
  if (c.lastMessage !== null) {
    assertGroupMessage(c.lastMessage);
    assert.equal(c.lastMessage.conversationId, c._id);
  }
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(c[k], v, `conversation.${k}`);
  return c;
}

const ids = (users) => users.map((u) => (typeof u === 'string' ? u : u.user._id));

/** POST /api/conversations. */
export function createGroup(url, owner, name, members, extra = {}) {
  return request(url, '/api/conversations', {
    method: 'POST', token: owner.token, body: { type: 'group', name, memberIds: ids(members), ...extra },
  });
}

/** POST /api/conversations, asserting 201; resolves with the group. */
export async function createGroupOk(url, owner, name, members) {
  const res = await createGroup(url, owner, name, members);
  assert.equal(res.status, 201, res.text);
  return assertGroup(res.body);
}

export function renameGroup(url, who, id, name) {
  return request(url, `/api/conversations/${id}`, { method: 'PATCH', token: who.token, body: { name } });
}

export function addMembers(url, who, id, users) {
  return request(url, `/api/conversations/${id}/members`, {
    method: 'POST', token: who.token, body: { userIds: ids(users) },
  });
}

export function removeMember(url, who, id, user) {
  return request(url, `/api/conversations/${id}/members/${ids([user])[0]}`, { method: 'DELETE', token: who.token });
}

export function getConversation(url, who, id) {
  return request(url, `/api/conversations/${id}`, { token: who.token });
}

/** POST /api/messages/send by conversationId. */
export function sendToGroup(url, from, conversationId, text, extra = {}) {
  return request(url, '/api/messages/send', {
    method: 'POST', token: from.token, body: { conversationId, text, ...extra },
  });
}
