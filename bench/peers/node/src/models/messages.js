'use strict';
// Conversations and messages. A direct conversation is unique per pair of
// users (stored as user_a < user_b) and created by their first message; each
// message carries its own delivered/read times, as the Mongoose model did.
const db = require('../db');
const { newObjectId } = require('../objectId');

const stmt = {
  conversationById: db.prepare('SELECT * FROM conversations WHERE id = ?'),
  conversationByPair: db.prepare('SELECT * FROM conversations WHERE user_a = ? AND user_b = ?'),
  insertConversation: db.prepare(
    'INSERT INTO conversations (id, user_a, user_b, last_seq, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
  ),
  nextSeq: db.prepare('UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq').pluck(),
  conversationsOf: db.prepare(
    `SELECT c.id, c.user_a, c.user_b, c.updated_at,
            u.id AS peer_id, u.name AS peer_name, u.email AS peer_email, u.avatar AS peer_avatar,
            u.created_at AS peer_created_at, u.last_seen AS peer_last_seen
       FROM conversations c
       JOIN users u ON u.id = CASE WHEN c.user_a = @user THEN c.user_b ELSE c.user_a END
      WHERE c.user_a = @user OR c.user_b = @user
      ORDER BY c.updated_at DESC, c.id DESC`,
  ),

  insertMessage: db.prepare(
    `INSERT INTO messages (id, conversation_id, seq, from_id, to_id, text, temp_id, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  byId: db.prepare('SELECT * FROM messages WHERE id = ?'),
  byTempId: db.prepare('SELECT * FROM messages WHERE from_id = ? AND temp_id = ?'),
  seqInConversation: db.prepare('SELECT seq FROM messages WHERE id = ? AND conversation_id = ?').pluck(),
  newest: db.prepare('SELECT * FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ? OFFSET ?'),
  afterSeq: db.prepare('SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
  last: db.prepare('SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1'),
  lastFrom: db.prepare('SELECT id, seq FROM messages WHERE conversation_id = ? AND from_id = ? ORDER BY seq DESC LIMIT 1'),
  unreadCount: db.prepare('SELECT count(*) FROM messages WHERE conversation_id = ? AND to_id = ? AND read_at IS NULL').pluck(),
  markRead: db.prepare(
    `UPDATE messages SET read_at = @at, delivered_at = coalesce(delivered_at, @at)
      WHERE conversation_id = @conversationId AND to_id = @readerId AND seq <= @seq AND read_at IS NULL`,
  ),
  markDelivered: db.prepare('UPDATE messages SET delivered_at = ? WHERE id = ? AND to_id = ? AND delivered_at IS NULL'),
  undelivered: db.prepare('SELECT * FROM messages WHERE to_id = ? AND delivered_at IS NULL ORDER BY created_at, seq LIMIT ?'),
};

function pair(a, b) {
  return a < b ? [a, b] : [b, a];
}

const findConversation = (id) => stmt.conversationById.get(id);
const findConversationBetween = (a, b) => stmt.conversationByPair.get(...pair(a, b));

// Stores a message in one transaction: the pair's conversation (created if
// needed), the next seq, the row. Returns the stored row.
const append = db.transaction(({ from, to, text, tempId }) => {
  const now = Date.now();
  let conversation = findConversationBetween(from, to);
  if (!conversation) {
    const id = newObjectId();
    stmt.insertConversation.run(id, ...pair(from, to), now, now);
    conversation = { id };
  }
  const seq = stmt.nextSeq.get(now, conversation.id);
  const id = newObjectId();
  stmt.insertMessage.run(id, conversation.id, seq, from, to, text, tempId ?? null, now);
  return {
    id,
    conversation_id: conversation.id,
    seq,
    from_id: from,
    to_id: to,
    text,
    temp_id: tempId ?? null,
    created_at: now,
    delivered_at: null,
    read_at: null,
  };
});

const findByTempId = (from, tempId) => stmt.byTempId.get(from, tempId);
const seqInConversation = (messageId, conversationId) => stmt.seqInConversation.get(messageId, conversationId);

// The newest `limit` messages older than seq `beforeSeq`, after skipping `skip`, oldest first.
function page(conversationId, { limit, skip, beforeSeq }) {
  return stmt.newest.all(conversationId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit, skip).reverse();
}

const after = (conversationId, seq, limit) => stmt.afterSeq.all(conversationId, seq, limit);
const conversationsOf = (userId) => stmt.conversationsOf.all({ user: userId });
const lastMessage = (conversationId) => stmt.last.get(conversationId);
const lastMessageFrom = (conversationId, userId) => stmt.lastFrom.get(conversationId, userId);
const unreadCount = (conversationId, userId) => stmt.unreadCount.get(conversationId, userId);

// Marks `readerId`'s messages up to `seq` read (and delivered if they were
// not); returns how many became read.
const markRead = (conversationId, readerId, seq, at) =>
  stmt.markRead.run({ at, conversationId, readerId, seq }).changes;

// Returns true if the message was not delivered before.
const markDelivered = (messageId, recipientId, at) => stmt.markDelivered.run(at, messageId, recipientId).changes === 1;

const undeliveredTo = (userId, limit) => stmt.undelivered.all(userId, limit);

module.exports = {
  findConversation,
  findConversationBetween,
  append,
  findByTempId,
  seqInConversation,
  page,
  after,
  conversationsOf,
  lastMessage,
  lastMessageFrom,
  unreadCount,
  markRead,
  markDelivered,
  undeliveredTo,
};
