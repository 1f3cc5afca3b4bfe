'use strict';
// Rows to the JSON shapes of the API (Mongoose-style `_id`, ISO timestamps).

const iso = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function userJSON(row, online) {
  const user = {
    _id: row.id,
    name: row.name,
    email: row.email,
    avatar: row.avatar ?? null,
    createdAt: iso(row.created_at),
    lastSeen: iso(row.last_seen),
  };
  if (online !== undefined) user.online = online;
  return user;
}

function messageJSON(row) {
  const message = {
    _id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    from: row.from_id,
    to: row.to_id,
    text: row.text,
    createdAt: iso(row.created_at),
    delivered: row.delivered_at !== null,
    deliveredAt: iso(row.delivered_at),
    read: row.read_at !== null,
    readAt: iso(row.read_at),
  };
  if (row.temp_id !== null) message.tempId = row.temp_id;
  return message;
}

module.exports = { iso, userJSON, messageJSON };
