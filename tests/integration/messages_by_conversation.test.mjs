// Sending by conversationId (contract v1.1), for direct conversations: over
// HTTP and over Socket.IO, `{conversationId,text,tempId?}` in place of `to`,
// exactly one of the two (both or neither: 400); a conversation the sender
// is not in, an unknown or malformed id: 404; the message is the same as one
// sent with `to` (recipient, seq, fan-out, tempId retries).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, newUser } from './lib/server.mjs';
import { assertError, assertValidation } from './lib/checks.mjs';
import { assertMessage, send } from './lib/messages.mjs';
import { BASE_ENV, connect, closeAll } from './lib/chat.mjs';

let srv;
before(async () => { srv = await startServer({ env: BASE_ENV }); });
after(async () => { closeAll(); if (srv) assert.equal(await srv.stop(), 0); });

function sendTo(who, body) {
  return request(srv.url, '/api/messages/send', { method: 'POST', token: who.token, body });
}

test('POST /api/messages/send with conversationId: same conversation, next seq, the peer as recipient; errors', async () => {
  const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((n) => newUser(srv.url, { name: `ByConv ${n}` })));
  const first = await send(srv.url, a, b, 'by to');
  assert.equal(first.status, 201, first.text);
  const conversationId = first.body.conversationId;

  const byConv = await sendTo(b, { conversationId, text: 'by conversation', tempId: 't-1' });
  assert.equal(byConv.status, 201, byConv.text);
  assertMessage(byConv.body, { from: b.user._id, to: a.user._id, text: 'by conversation' });
  assert.equal(byConv.body.conversationId, conversationId);
  assert.equal(byConv.body.seq, first.body.seq + 1);
  // A retried tempId answers the original.
  const retry = await sendTo(b, { conversationId, text: 'by conversation', tempId: 't-1' });
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.body._id, byConv.body._id);

  // Exactly one of to and conversationId.
  assertValidation(await sendTo(a, { to: b.user._id, conversationId, text: 'both' }), ['conversationId']);
  assertValidation(await sendTo(a, { text: 'neither' }), ['to']);
  assertValidation(await sendTo(a, { conversationId: 5, text: 'not a string' }), ['conversationId']);
  // Not the sender's conversation, unknown, malformed, a user id: 404.
  assertError(await sendTo(c, { conversationId, text: 'intruder' }), 404, 'not_found');
  assertError(await sendTo(a, { conversationId: '0123456789abcdef01234567', text: 'x' }), 404, 'not_found');
  assertError(await sendTo(a, { conversationId: 'nope', text: 'x' }), 404, 'not_found');
  assertError(await sendTo(a, { conversationId: b.user._id, text: 'x' }), 404, 'not_found');
});

test('message:send with conversationId over Socket.IO: acked, and the peer receives it', async () => {
  const [a, b] = await Promise.all(['A', 'B'].map((n) => newUser(srv.url, { name: `SockConv ${n}` })));
  const first = await send(srv.url, a, b, 'opening');
  assert.equal(first.status, 201, first.text);
  const ca = await connect(srv.url, a, { label: 'A' });
  const cb = await connect(srv.url, b, { label: 'B' });
  const ack = await ca.call('message:send', { conversationId: first.body.conversationId, text: 'live' });
  assert.equal(ack?.ok, true, JSON.stringify(ack));
  assertMessage(ack.message, { from: a.user._id, to: b.user._id, text: 'live' });
  const got = await cb.waitReceived(ack.message._id);
  assert.equal(got.args[0].message.seq, first.body.seq + 1);
  if (got.ack) got.ack();
  const refused = await ca.call('message:send', { conversationId: first.body.conversationId, to: b.user._id, text: 'both' });
  assert.equal(refused?.ok, false);
  assert.equal(refused.error, 'validation_failed');
  assert.ok(refused.fields?.conversationId, JSON.stringify(refused));
  ca.close();
  cb.close();
});
