// Versioned schema migrations for the SQLite store. The schema version is
// PRAGMA user_version; each migration runs in its own transaction at start-up
// and bumps it. Migrations are append-only: never edit a released one.
#pragma once

#include <optional>
#include <string>

namespace parley::store::sqlite {

class Connection;

// Applies every migration newer than the database. Returns an error text on
// failure (the database is left at the last complete version).
std::optional<std::string> migrate(Connection& db);

// The version migrate() brings a database to.
int latest_schema_version();

}  // namespace parley::store::sqlite
