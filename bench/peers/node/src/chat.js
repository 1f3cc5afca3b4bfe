'use strict';
// Sending, history, conversations and read marks: the rules shared by the
// HTTP routes and the Socket.IO events. Stored messages and read marks are
// announced on `chatEvents` for the real-time side.
const { EventEmitter } = require('node:events');
const config = require('./config');
const Users = require('./models/users');
const Messages = require('./models/messages');
const { isObjectId } = require('./objectId');
const { ApiError, notFound, validationFailed } = require('./errors');
const { RateLimiter } = require('./rateLimit');
const { Problems, stringField, codePoints, intParam, stringParam, MAX_SKIP } = require('./validation');
const { iso, userJSON, messageJSON } = require('./serialize');

const chatEvents = new EventEmitter();

const sendLimiter = new RateLimiter({
  perSecond: config.messagesPerSecond,
  burst: config.messagesBurst,
  disabled: config.rateLimitDisabled,
});

const MAX_TEXT = 4000;
const MAX_TEMP_ID = 64;
const MAX_PAGE = 200;

// Stores a message from `fromId`. Returns { message, duplicate }: a retry
// with a tempId already used by this sender returns the original.
// `origin` is the id of the socket it came from, if any.
function sendMessage(fromId, body, origin = null) {
  const problems = new Problems();
  const to = stringField(body, 'to', problems);
  const text = stringField(body, 'text', problems);
  const tempId = stringField(body, 'tempId', problems);
  if (to === undefined) problems.add('to', 'is required');
  if (text === undefined) {
    problems.add('text', 'is required');
  } else if (!text.isWellFormed()) {
    problems.add('text', 'must be valid UTF-8');
  } else {
    const length = codePoints(text);
    if (length < 1 || length > MAX_TEXT) problems.add('text', 'must be 1-4000 characters');
    else if (text.trim() === '') problems.add('text', 'must not be only whitespace');
  }
  if (tempId !== undefined) {
    const length = codePoints(tempId);
    if (!tempId.isWellFormed() || length < 1 || length > MAX_TEMP_ID) problems.add('tempId', 'must be 1-64 characters');
  }
  if (to !== undefined && to === fromId) problems.add('to', 'cannot be yourself');
  problems.throwIfAny();
  if (!isObjectId(to)) throw notFound('Recipient not found');

  const limit = sendLimiter.take(fromId);
  if (!limit.allowed) {
    const err = new ApiError(429, 'rate_limited', 'Too many messages, slow down');
    err.retryAfter = limit.retryAfter;
    throw err;
  }

  if (tempId !== undefined) {
    const original = Messages.findByTempId(fromId, tempId);
    if (original) return { message: original, duplicate: true };
  }
  if (!Users.findById(to)) throw notFound('Recipient not found');
  const message = Messages.append({ from: fromId, to, text, tempId });
  chatEvents.emit('message', message, origin);
  return { message, duplicate: false };
}

// `targetId` as a conversation of the caller, else as another user. Returns
// { conversation (null if the pair has not talked yet), peerId }, or null.
function resolveTarget(callerId, targetId) {
  const conversation = Messages.findConversation(targetId);
  if (conversation && (conversation.user_a === callerId || conversation.user_b === callerId)) {
    return { conversation, peerId: conversation.user_a === callerId ? conversation.user_b : conversation.user_a };
  }
  if (targetId === callerId || !Users.findById(targetId)) return null;
  return { conversation: Messages.findConversationBetween(callerId, targetId) ?? null, peerId: targetId };
}

// GET /api/messages/:id with ?limit&skip&before&afterSeq.
function history(callerId, targetId, query) {
  const problems = new Problems();
  const limit = intParam(query, 'limit', 1, MAX_PAGE, 50, 'must be an integer from 1 to 200', problems);
  const skip = intParam(query, 'skip', 0, MAX_SKIP, 0, 'must be a non-negative integer', problems);
  const afterSeq = intParam(query, 'afterSeq', 0, MAX_SKIP, undefined, 'must be a non-negative integer', problems);
  problems.throwIfAny();
  if (!isObjectId(targetId)) throw notFound('Conversation not found');
  const before = stringParam(query, 'before') || undefined;
  if (before !== undefined && !isObjectId(before)) throw validationFailed({ before: 'must be a message id' });

  const target = resolveTarget(callerId, targetId);
  if (!target) throw notFound('Conversation not found');
  if (!target.conversation) return [];
  const conversationId = target.conversation.id;
  let beforeSeq;
  if (before !== undefined) {
    beforeSeq = Messages.seqInConversation(before, conversationId);
    if (beforeSeq === undefined) throw validationFailed({ before: 'is not a message of this conversation' });
  }
  const rows =
    afterSeq !== undefined
      ? Messages.after(conversationId, afterSeq, limit)
      : Messages.page(conversationId, { limit, skip, beforeSeq });
  return rows.map(messageJSON);
}

// GET /api/conversations: most recent activity first.
function conversations(userId) {
  return Messages.conversationsOf(userId).map((c) => {
    const last = Messages.lastMessage(c.id);
    return {
      _id: c.id,
      type: 'direct',
      participants: [c.user_a, c.user_b],
      peer: userJSON({
        id: c.peer_id,
        name: c.peer_name,
        email: c.peer_email,
        avatar: c.peer_avatar,
        created_at: c.peer_created_at,
        last_seen: c.peer_last_seen,
      }),
      lastMessage: last ? messageJSON(last) : null,
      unreadCount: Messages.unreadCount(c.id, userId),
      updatedAt: iso(c.updated_at),
    };
  });
}

// Marks the peer's messages up to `upTo` (default: the peer's last) read.
// Returns { conversationId, upTo, readAt, count }.
function markRead(readerId, targetId, upTo) {
  if (!isObjectId(targetId)) throw notFound('Conversation not found');
  if (upTo !== undefined && !isObjectId(upTo)) throw validationFailed({ upTo: 'must be a message id' });
  const target = resolveTarget(readerId, targetId);
  if (!target) throw notFound('Conversation not found');
  const now = Date.now();
  if (!target.conversation) return { conversationId: null, upTo: null, readAt: iso(now), count: 0 };

  const conversationId = target.conversation.id;
  let upToId = null;
  let upToSeq = 0;
  if (upTo !== undefined) {
    upToSeq = Messages.seqInConversation(upTo, conversationId);
    if (upToSeq === undefined) throw validationFailed({ upTo: 'is not a message of this conversation' });
    upToId = upTo;
  } else {
    const last = Messages.lastMessageFrom(conversationId, target.peerId);
    if (last) {
      upToId = last.id;
      upToSeq = last.seq;
    }
  }
  const count = upToSeq > 0 ? Messages.markRead(conversationId, readerId, upToSeq, now) : 0;
  const outcome = { conversationId, upTo: upToId, readAt: iso(now), count };
  if (count > 0) chatEvents.emit('read', { ...outcome, readerId, peerId: target.peerId });
  return outcome;
}

module.exports = { chatEvents, sendMessage, history, conversations, markRead };
