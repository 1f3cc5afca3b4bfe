// A thin layer over one libpq connection: connects (and reconnects with
// bounded exponential backoff), runs statements prepared once per
// connection, and turns libpq failures into core::Error values (no
// exceptions). A Connection is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

struct pg_conn;
struct pg_result;

namespace parley::store::pg {

// Statement parameters, all sent as text (the server infers their types).
class Params {
 public:
  Params& add(std::string_view text);
  Params& add(std::int64_t value);
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add_optional(const std::optional<std::string>& text);
  Params& add_null();

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object's storage, valid while it is unchanged.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

// The rows of one statement's result, in text format.
class Rows {
 public:
  explicit Rows(pg_result* result);
  int size() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  std::optional<std::string> optional_text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  std::optional<std::int64_t> optional_integer(int row, int column) const;
  // Rows changed by an INSERT/UPDATE/DELETE without RETURNING.
  std::int64_t affected() const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

// When a store's connections may try to connect after failing to: one
// schedule for all of a store's connections (they reach one database), so a
// database that is down gets one attempt per interval rather than one per
// connection, and the first connection that gets through lets the others
// try at once. Thread-safe.
class Backoff {
 public:
  // Between two attempts after a failure: doubling from the first to the
  // last, so a database that is back is found again within kMax, and one
  // that stays down costs one attempt per kMax.
  static constexpr std::chrono::milliseconds kFirst{50};
  static constexpr std::chrono::milliseconds kMax{2000};

  bool may_try(std::chrono::steady_clock::time_point now);
  void failed(std::chrono::steady_clock::time_point now);
  void succeeded();

 private:
  std::mutex mutex_;  // guards the two below
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds delay_ = kFirst;
};

// One statement of a pipeline: its text and parameters.
struct Statement {
  std::string_view sql;
  Params params;
};

class Connection {
 public:
  // `setup`: statements run on each new session (e.g. SET synchronous_commit).
  Connection(std::string url, std::vector<std::string> setup, std::shared_ptr<Backoff> backoff);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects when not connected and the backoff allows an attempt now.
  // True when connected.
  bool ensure();
  // The text of the last connection failure (for logs and error detail).
  const std::string& connect_error() const { return connect_error_; }
  bool connected() const { return conn_ != nullptr; }

  // Runs one statement with parameters, prepared on first use on this
  // session. Fails with ErrorCode::unavailable when the connection is lost
  // (then closed; ensure() connects again), ErrorCode::internal otherwise,
  // with the server's text in the detail.
  core::Result<Rows> query(std::string_view sql, const Params& params = {});
  // Runs commands without parameters or results (BEGIN, COMMIT, DDL).
  core::Result<void> exec(const char* sql);
  // Runs `statements` in one round trip (libpq's pipeline mode): all are
  // sent, then their results read in order. Once one fails the server skips
  // the rest, which fail too. The outer error: the connection was lost (then
  // closed), and which statements ran is unknown.
  core::Result<std::vector<core::Result<Rows>>> pipeline(const std::vector<Statement>& statements);

  // The SQLSTATE of the last failed statement ("" when the failure was not
  // the server's answer).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  core::Result<Rows> check(pg_result* result, std::string_view what, bool rows_expected);
  void drop();

  std::string url_;
  std::vector<std::string> setup_;
  pg_conn* conn_ = nullptr;
  // The name of the prepared statement of `sql`, preparing it (queued,
  // in a pipeline) when it is new; empty when the prepare could not be
  // sent.
  std::string statement_name(std::string_view sql, int params, bool pipelined);

  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  std::size_t statements_named_ = 0;                       // names are never reused on a session
  std::string connect_error_;
  std::string last_sqlstate_;
  std::shared_ptr<Backoff> backoff_;
};

// A failure that means "the database cannot be reached now".
core::Error unavailable_error(std::string detail);

// SQLSTATEs for which a whole transaction may simply be run again:
// serialization failure and deadlock detected.
bool retryable_sqlstate(std::string_view sqlstate);

}  // namespace parley::store::pg
