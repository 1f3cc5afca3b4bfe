// GET /api/conversations/:id (contract v1.1, for direct conversations): the
// caller's conversation by its id, the same object GET /api/conversations
// lists; 404 for a conversation the caller is not in, an unknown or
// malformed id, or a user id; 401 without a token.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, newUser } from './lib/server.mjs';
import { assertError } from './lib/checks.mjs';
import { assertConversation, send } from './lib/messages.mjs';

let srv;
before(async () => { srv = await startServer({ env: { RATE_LIMIT_DISABLED: '1' } }); });
after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

test('GET /api/conversations/:id answers the caller\'s conversation as the list shows it; 404 for anyone else\'s', async () => {
  const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((n) => newUser(srv.url, { name: `Conv ${n}` })));
  const sent = await send(srv.url, a, b, 'first');
  assert.equal(sent.status, 201, sent.text);
  const again = await send(srv.url, b, a, 'second');
  assert.equal(again.status, 201, again.text);
  const conversationId = sent.body.conversationId;

  for (const [who, peer] of [[a, b], [b, a]]) {
    const list = await request(srv.url, '/api/conversations', { token: who.token });
    assert.equal(list.status, 200, list.text);
    const one = await request(srv.url, `/api/conversations/${conversationId}`, { token: who.token });
    assert.equal(one.status, 200, one.text);
    assertConversation(one.body, { me: who.user._id, peer: peer.user._id });
    assert.deepEqual(one.body, list.body.find((x) => x._id === conversationId), 'the same object as in the list');
    assert.equal(one.body.lastMessage.text, 'second');
  }
  assert.equal((await request(srv.url, `/api/conversations/${conversationId}`, { token: a.token })).body.unreadCount, 1);

  // Not a member, unknown, malformed, a user id: all the same 404.
  assertError(await request(srv.url, `/api/conversations/${conversationId}`, { token: c.token }), 404, 'not_found');
  assertError(await request(srv.url, '/api/conversations/0123456789abcdef01234567', { token: a.token }), 404, 'not_found');
  assertError(await request(srv.url, '/api/conversations/nope', { token: a.token }), 404, 'not_found');
  assertError(await request(srv.url, `/api/conversations/${b.user._id}`, { token: a.token }), 404, 'not_found');
  assertError(await request(srv.url, `/api/conversations/${conversationId}`), 401, 'unauthorized');
});
