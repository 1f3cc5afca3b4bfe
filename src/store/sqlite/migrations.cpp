#include "store/sqlite/migrations.hpp"

#include <array>

#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sqlite/connection.hpp"

namespace parley::store::sqlite {

namespace {

// Index i brings the schema from version i to i + 1.
constexpr std::array<const char*, 1> kMigrations{
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
