// Versioned schema migrations for the PostgreSQL store. The version is the
// one row of table schema_version; each migration runs in its own
// transaction and bumps it. Several nodes may start at once: whoever holds
// the advisory lock (kMigrationLock) migrates, the others wait for it and
// then find the schema current. Migrations are append-only: never edit a
// released one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace parley::store::pg {

class Connection;

// The session-level advisory lock key taken while migrating ("parley" in
// ASCII): the same on every node, unlikely to clash with an application's.
inline constexpr std::int64_t kMigrationLock = 0x7061726c6579;

// Applies every migration newer than the database, in the schema first on
// the connection's search_path. Returns an error text on failure (the
// database is left at the last complete version).
std::optional<std::string> migrate(Connection& db);

// The version migrate() brings a database to.
int latest_schema_version();

}  // namespace parley::store::pg
