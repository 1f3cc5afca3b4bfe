#include "store/pg/migrations.hpp"

#include <array>

#include <fmt/format.h>

#include "store/pg/connection.hpp"

namespace parley::store::pg {

namespace {

// Index i brings the schema from version i to i + 1. The same model as the
// SQLite store's (store/sqlite/migrations.cpp). Identifiers and keys compare
// bytewise (COLLATE "C"), as in SQLite, whatever the database's locale:
// list_users orders names in binary order, pending deliveries page by
// conversation id.
constexpr std::array<const char*, 3> kMigrations{
    // 1: users and token revocations.
    R"sql(
CREATE TABLE users (
  id            text COLLATE "C" PRIMARY KEY,
  name          text COLLATE "C" NOT NULL,
  name_fold     text COLLATE "C" NOT NULL,    -- ASCII lower-case of name, for prefix search
  email         text COLLATE "C" NOT NULL UNIQUE,  -- stored lower-cased
  password_hash text NOT NULL,
  avatar        text,
  created_at    bigint NOT NULL,              -- ms since the epoch
  last_seen     bigint
);
CREATE INDEX users_by_name ON users (name, id);

CREATE TABLE revoked_tokens (
  jti        text COLLATE "C" PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
)sql",
    // 2: direct conversations, messages, receipt cursors.
    R"sql(
CREATE TABLE conversations (
  id         text COLLATE "C" PRIMARY KEY,
  type       text NOT NULL DEFAULT 'direct',
  direct_key text COLLATE "C" UNIQUE,      -- "<smaller user id>:<larger user id>"
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,              -- last activity
  last_seq   bigint NOT NULL DEFAULT 0     -- seq of the newest message
);

-- delivered_seq / read_seq: this member has received / read the other
-- members' messages up to that seq.
CREATE TABLE conversation_members (
  conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (id),
  user_id         text COLLATE "C" NOT NULL REFERENCES users (id),
  delivered_seq   bigint NOT NULL DEFAULT 0,
  read_seq        bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_by_user ON conversation_members (user_id);

-- Keyed by (conversation, seq): history pages and unread counts are range
-- scans. The unique id index serves `before` and `upTo` cursors; the
-- partial tempId index holds only messages that carry one.
CREATE TABLE messages (
  conversation_id text COLLATE "C" NOT NULL,
  seq             bigint NOT NULL,
  id              text COLLATE "C" NOT NULL,
  sender_id       text COLLATE "C" NOT NULL,
  text            text NOT NULL,
  temp_id         text COLLATE "C",
  created_at      bigint NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_by_id ON messages (id);
CREATE UNIQUE INDEX messages_by_temp_id ON messages (sender_id, temp_id)
  WHERE temp_id IS NOT NULL;

-- Every advance of a member's cursor: kind 0 delivered, 1 read. A message
-- with seq s was delivered (read) at the time of the first mark with
-- up_to_seq >= s.
CREATE TABLE receipts (
  conversation_id text COLLATE "C" NOT NULL,
  user_id         text COLLATE "C" NOT NULL,
  kind            smallint NOT NULL,
  up_to_seq       bigint NOT NULL,
  at              bigint NOT NULL,
  PRIMARY KEY (conversation_id, user_id, kind, up_to_seq)
);
)sql",
    // 3: groups (contract v1.1). Existing rows are direct conversations:
    // no name or owner, members who joined at the start.
    R"sql(
ALTER TABLE conversations ADD COLUMN name text, ADD COLUMN owner_id text COLLATE "C";
-- position: join order within the conversation. joined_seq: the
-- conversation's last seq when the member joined; a group message counts
-- for the members who joined before it.
ALTER TABLE conversation_members ADD COLUMN position bigint NOT NULL DEFAULT 0,
  ADD COLUMN joined_seq bigint NOT NULL DEFAULT 0;
)sql",
};

// Runs `body` in one transaction; an error text on failure (rolled back).
std::optional<std::string> in_transaction(Connection& db, const char* body,
                                          const std::string& bump) {
  if (auto r = db.exec("BEGIN"); !r) return r.error().detail;
  auto r = db.exec(body);
  if (r) r = db.exec(bump.c_str());
  if (r) r = db.exec("COMMIT");
  if (!r) {
    (void)db.exec("ROLLBACK");
    return r.error().detail;
  }
  return std::nullopt;
}

std::optional<std::string> migrate_locked(Connection& db) {
  if (auto r = db.exec(
          "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);"
          "INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version)");
      !r) {
    return "cannot create schema_version: " + r.error().detail;
  }
  auto rows = db.query("SELECT version FROM schema_version");
  if (!rows || rows->size() != 1) {
    return "cannot read schema version" + (rows ? std::string() : ": " + rows.error().detail);
  }
  const auto current = static_cast<int>(rows->integer(0, 0));
  if (current > latest_schema_version()) {
    return fmt::format("database schema version {} is newer than this parleyd ({})", current,
                       latest_schema_version());
  }
  for (int v = current; v < latest_schema_version(); ++v) {
    const std::string bump = fmt::format("UPDATE schema_version SET version = {}", v + 1);
    if (auto err = in_transaction(db, kMigrations[static_cast<std::size_t>(v)], bump)) {
      return fmt::format("migration {} failed: {}", v + 1, *err);
    }
  }
  return std::nullopt;
}

}  // namespace

int latest_schema_version() {
  return static_cast<int>(kMigrations.size());
}

std::optional<std::string> migrate(Connection& db) {
  const std::string lock = fmt::format("SELECT pg_advisory_lock({})", kMigrationLock);
  if (auto r = db.exec(lock.c_str()); !r)
    return "cannot take the migration lock: " + r.error().detail;
  auto err = migrate_locked(db);
  const std::string unlock = fmt::format("SELECT pg_advisory_unlock({})", kMigrationLock);
  (void)db.exec(unlock.c_str());
  return err;
}

}  // namespace parley::store::pg
