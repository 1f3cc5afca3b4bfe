// A thin RAII layer over one sqlite3 connection: open with Parley's pragmas,
// prepared statements cached per SQL text, and step/bind helpers that return
// status codes (no exceptions). A Connection is used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace parley::store::sqlite {

// A prepared statement borrowed from a Connection's cache; reset and
// cleared of bindings when the Statement goes out of scope.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind by 1-based index.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_null(int index);
  Statement& bind_optional(int index, const std::optional<std::string>& text);
  Statement& bind_optional(int index, const std::optional<std::int64_t>& value);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();

  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::int64_t integer(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

// How much of the database a connection keeps in memory: its page cache
// and the memory-mapped span (reads from the map need no pread copy).
struct ConnectionMemory {
  std::size_t cache_bytes = 64ULL << 20;
  std::size_t mmap_bytes = 0;
};

// How long a connection waits for a lock another connection holds.
inline constexpr int kBusyTimeoutMs = 5000;

class Connection {
 public:
  // writer: creates the file; reader: query_only; checkpointer: may write
  // the database file (checkpoints), runs no SQL of its own.
  enum class Mode { writer, reader, checkpointer };
  Connection() = default;
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;

  using Memory = ConnectionMemory;

  // Opens `path` (created for the writer), sets WAL, the synchronous mode,
  // busy timeout, foreign keys and `memory`. Returns an error text on failure.
  std::optional<std::string> open(const std::string& path, Mode mode,
                                  const std::string& synchronous, const Memory& memory = {});

  // Runs SQL with no result rows; returns an error text on failure.
  std::optional<std::string> exec(const char* sql);
  // Borrows the cached prepared statement for `sql` (a string literal: the
  // cache is keyed by its address). Returns nullopt and sets last_error()
  // when preparing fails.
  std::optional<Statement> prepare(const char* sql);

  std::string last_error() const;
  int changes() const;
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace parley::store::sqlite
