#include "store/sqlite/connection.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

namespace parley::store::sqlite {

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::bind_optional(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

Statement& Statement::bind_optional(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

int Statement::step() {
  return sqlite3_step(stmt_);
}

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> Statement::optional_integer(int column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (db_) sqlite3_close_v2(db_);
}

Connection::Connection(Connection&& other) noexcept
    : db_(other.db_), cache_(std::move(other.cache_)) {
  other.db_ = nullptr;
  other.cache_.clear();
}

std::optional<std::string> Connection::open(const std::string& path, Mode mode,
                                            const std::string& synchronous, const Memory& memory) {
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (mode == Mode::writer ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string err = db_ ? sqlite3_errmsg(db_) : "out of memory";
    return fmt::format("cannot open {}: {}", path, err);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  if (auto err = exec("PRAGMA journal_mode=WAL")) return err;
  const std::string sync = fmt::format("PRAGMA synchronous={}", synchronous);
  if (auto err = exec(sync.c_str())) return err;
  if (auto err = exec("PRAGMA foreign_keys=ON")) return err;
  // A negative cache_size is in KiB.
  const std::string cache = fmt::format("PRAGMA cache_size=-{}", memory.cache_bytes / 1024);
  if (auto err = exec(cache.c_str())) return err;
  const std::string mmap = fmt::format("PRAGMA mmap_size={}", memory.mmap_bytes);
  if (auto err = exec(mmap.c_str())) return err;
  if (mode == Mode::reader) {
    if (auto err = exec("PRAGMA query_only=ON")) return err;
  }
  if (mode == Mode::writer) {
    // Checkpoints are the checkpointer's (SqliteStore), not the commit's.
    if (auto err = exec("PRAGMA wal_autocheckpoint=0")) return err;
    // A WAL that grew during a burst is cut back when it restarts.
    if (auto err = exec("PRAGMA journal_size_limit=67108864")) return err;
  }
  return std::nullopt;
}

std::optional<std::string> Connection::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string err = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return err;
  }
  return std::nullopt;
}

std::optional<Statement> Connection::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return std::nullopt;
    }
    it = cache_.emplace(sql, stmt).first;
  }
  return std::optional<Statement>(std::in_place, it->second);
}

std::string Connection::last_error() const {
  return db_ ? sqlite3_errmsg(db_) : "not open";
}

int Connection::changes() const {
  return sqlite3_changes(db_);
}

}  // namespace parley::store::sqlite
