#include "store/sqlite/migrations.hpp"

#include <array>

#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sqlite/connection.hpp"

namespace parley::store::sqlite {

namespace {

// Index i brings the schema from version i to i + 1.
constexpr std::array<const char*, 3> kMigrations{
    // 1: users and token revocations.
    R"sql(
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  name_fold     TEXT NOT NULL,           -- ASCII lower-case of name, for prefix search
  email         TEXT NOT NULL UNIQUE,    -- stored lower-cased
  password_hash TEXT NOT NULL,
  avatar        TEXT,
  created_at    INTEGER NOT NULL,        -- ms since the epoch
  last_seen     INTEGER
) WITHOUT ROWID;
CREATE INDEX users_by_name ON users (name, id);

CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
)sql",
    // 2: direct conversations, messages, receipt cursors.
    R"sql(
CREATE TABLE conversations (
  id         TEXT PRIMARY KEY,
  type       TEXT NOT NULL DEFAULT 'direct',
  direct_key TEXT UNIQUE,                -- "<smaller user id>:<larger user id>"
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,           -- last activity
  last_seq   INTEGER NOT NULL DEFAULT 0  -- seq of the newest message
) WITHOUT ROWID;

-- delivered_seq / read_seq: this member has received / read the other
-- members' messages up to that seq.
CREATE TABLE conversation_members (
  conversation_id TEXT NOT NULL REFERENCES conversations (id),
  user_id         TEXT NOT NULL REFERENCES users (id),
  delivered_seq   INTEGER NOT NULL DEFAULT 0,
  read_seq        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX conversation_members_by_user ON conversation_members (user_id);

-- Clustered by (conversation, seq): history pages and unread counts are
-- range scans. messages_by_id serves `before` and `upTo` cursors; the
-- partial tempId index holds only messages that carry one.
CREATE TABLE messages (
  conversation_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  id              TEXT NOT NULL,
  sender_id       TEXT NOT NULL,
  text            TEXT NOT NULL,
  temp_id         TEXT,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_by_id ON messages (id);
CREATE UNIQUE INDEX messages_by_temp_id ON messages (sender_id, temp_id)
  WHERE temp_id IS NOT NULL;

-- Every advance of a member's cursor: kind 0 delivered, 1 read. A message
-- with seq s was delivered (read) at the time of the first mark with
-- up_to_seq >= s.
CREATE TABLE receipts (
  conversation_id TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  kind            INTEGER NOT NULL,
  up_to_seq       INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, user_id, kind, up_to_seq)
) WITHOUT ROWID;
)sql",
    // 3: groups (contract v1.1). Existing rows are direct conversations:
    // no name or owner, members who joined at the start.
    R"sql(
ALTER TABLE conversations ADD COLUMN name TEXT;
ALTER TABLE conversations ADD COLUMN owner_id TEXT;
-- position: join order within the conversation. joined_seq: the
-- conversation's last seq when the member joined; a group message counts
-- for the members who joined before it.
ALTER TABLE conversation_members ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversation_members ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0;
)sql",
};

}  // namespace

int latest_schema_version() {
  return static_cast<int>(kMigrations.size());
}

std::optional<std::string> migrate(Connection& db) {
  auto st = db.prepare("PRAGMA user_version");
  if (!st || st->step() != SQLITE_ROW) return "cannot read schema version";
  const auto current = static_cast<int>(st->integer(0));
  st.reset();
  if (current > latest_schema_version()) {
    return fmt::format("database schema version {} is newer than this parleyd ({})", current,
                       latest_schema_version());
  }
  for (int v = current; v < latest_schema_version(); ++v) {
    if (auto err = db.exec("BEGIN IMMEDIATE")) return *err;
    auto err = db.exec(kMigrations[static_cast<std::size_t>(v)]);
    if (!err) {
      const std::string bump = fmt::format("PRAGMA user_version={}", v + 1);
      err = db.exec(bump.c_str());
    }
    if (!err) err = db.exec("COMMIT");
    if (err) {
      db.exec("ROLLBACK");
      return fmt::format("migration {} failed: {}", v + 1, *err);
    }
  }
  return std::nullopt;
}

}  // namespace parley::store::sqlite
