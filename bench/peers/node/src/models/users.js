'use strict';
const db = require('../db');

const COLUMNS = 'id, name, email, avatar, created_at, last_seen';

const stmt = {
  insert: db.prepare('INSERT INTO users (id, name, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
  byId: db.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ?`),
  withPasswordByEmail: db.prepare(`SELECT ${COLUMNS}, password_hash FROM users WHERE email = ?`),
  list: db.prepare(`SELECT ${COLUMNS} FROM users WHERE id <> ? ORDER BY name, id LIMIT ? OFFSET ?`),
  search: db.prepare(
    `SELECT ${COLUMNS} FROM users WHERE id <> ? AND (name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')
     ORDER BY name, id LIMIT ? OFFSET ?`,
  ),
  setLastSeen: db.prepare('UPDATE users SET last_seen = ? WHERE id = ?'),
  revokeToken: db.prepare('INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)'),
  isRevoked: db.prepare('SELECT 1 FROM revoked_tokens WHERE jti = ?').pluck(),
  purgeRevoked: db.prepare('DELETE FROM revoked_tokens WHERE expires_at < ?'),
};

// Throws SQLITE_CONSTRAINT_UNIQUE when the email is taken.
function create({ id, name, email, passwordHash, createdAt }) {
  stmt.insert.run(id, name, email, passwordHash, createdAt);
  return stmt.byId.get(id);
}

const findById = (id) => stmt.byId.get(id);
const findByEmailWithPassword = (email) => stmt.withPasswordByEmail.get(email);

// Everyone but `exceptId`, by name then id; `prefix` (lower-case) matches the
// start of the name or the email, ignoring ASCII case.
function list({ exceptId, prefix, limit, skip }) {
  if (!prefix) return stmt.list.all(exceptId, limit, skip);
  const pattern = prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
  return stmt.search.all(exceptId, pattern, pattern, limit, skip);
}

const setLastSeen = (id, at) => stmt.setLastSeen.run(at, id);
const revokeToken = (jti, expiresAt) => stmt.revokeToken.run(jti, expiresAt);
const isTokenRevoked = (jti) => stmt.isRevoked.get(jti) !== undefined;
const purgeRevokedTokens = (now) => stmt.purgeRevoked.run(now).changes;

module.exports = {
  create,
  findById,
  findByEmailWithPassword,
  list,
  setLastSeen,
  revokeToken,
  isTokenRevoked,
  purgeRevokedTokens,
};
