'use strict';
// SQLite through better-sqlite3, in place of MongoDB. WAL with
// synchronous=FULL: a message is on disk (fsynced) before it is acknowledged.
const fs = require('node:fs');
const path = require('node:path');
const Database = require('better-sqlite3');
const config = require('./config');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  avatar        TEXT,
  created_at    INTEGER NOT NULL,
  last_seen     INTEGER
);
CREATE INDEX IF NOT EXISTS users_by_name ON users (name, id);

CREATE TABLE IF NOT EXISTS revoked_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);

-- One direct conversation per pair of users: user_a < user_b.
CREATE TABLE IF NOT EXISTS conversations (
  id         TEXT PRIMARY KEY,
  user_a     TEXT NOT NULL,
  user_b     TEXT NOT NULL,
  last_seq   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (user_a, user_b)
);
CREATE INDEX IF NOT EXISTS conversations_by_user_b ON conversations (user_b);

CREATE TABLE IF NOT EXISTS messages (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  from_id         TEXT NOT NULL,
  to_id           TEXT NOT NULL,
  text            TEXT NOT NULL,
  temp_id         TEXT,
  created_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  read_at         INTEGER,
  UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_temp_id ON messages (from_id, temp_id) WHERE temp_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_undelivered ON messages (to_id, created_at) WHERE delivered_at IS NULL;
CREATE INDEX IF NOT EXISTS messages_unread ON messages (conversation_id, to_id) WHERE read_at IS NULL;
`;

function openDatabase(file) {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}

module.exports = openDatabase(config.databasePath);
