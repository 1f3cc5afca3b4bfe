#include "store/pg/connection.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace parley::store::pg {

namespace {

// Connection parameters a DATABASE_URL may override (they come before it):
// a bounded wait for a server that does not answer, and TCP keepalives and
// a user timeout so that a peer gone silent (no RST) turns into an error
// instead of a writer blocked for the kernel's retransmission timeout.
constexpr const char* kConnectTimeoutSeconds = "5";
constexpr const char* kKeepalivesIdleSeconds = "10";
constexpr const char* kKeepalivesIntervalSeconds = "5";
constexpr const char* kKeepalivesCount = "3";
constexpr const char* kTcpUserTimeoutMs = "20000";

std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// SQLSTATEs that mean the session is gone: connection exceptions (class
// 08) and the server shutting down or starting up.
bool connection_sqlstate(std::string_view state) {
  return state.substr(0, 2) == "08" || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace

// --- Params ------------------------------------------------------------------

Params& Params::add(std::string_view text) {
  values_.emplace_back(std::string(text));
  return *this;
}

Params& Params::add(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

Params& Params::add_optional(const std::optional<std::string>& text) {
  values_.push_back(text);
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

// --- Rows --------------------------------------------------------------------

void Rows::Clear::operator()(pg_result* r) const {
  PQclear(r);
}

Rows::Rows(pg_result* result) : result_(result) {}

int Rows::size() const {
  return PQntuples(result_.get());
}

bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string Rows::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::optional<std::string> Rows::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

std::int64_t Rows::integer(int row, int column) const {
  const char* v = PQgetvalue(result_.get(), row, column);
  const auto len = static_cast<std::size_t>(PQgetlength(result_.get(), row, column));
  std::int64_t out = 0;
  std::from_chars(v, v + len, out);
  return out;
}

std::optional<std::int64_t> Rows::optional_integer(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return integer(row, column);
}

std::int64_t Rows::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

// --- Connection ----------------------------------------------------------------

core::Error unavailable_error(std::string detail) {
  return core::Error::make(core::ErrorCode::unavailable, "Service unavailable", std::move(detail));
}

bool retryable_sqlstate(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01";
}

bool Backoff::may_try(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  return now >= next_attempt_;
}

void Backoff::failed(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  next_attempt_ = now + delay_;
  delay_ = std::min(delay_ * 2, kMax);
}

void Backoff::succeeded() {
  std::lock_guard lock(mutex_);
  next_attempt_ = {};
  delay_ = kFirst;
}

Connection::Connection(std::string url, std::vector<std::string> setup,
                       std::shared_ptr<Backoff> backoff)
    : url_(std::move(url)), setup_(std::move(setup)), backoff_(std::move(backoff)) {}

Connection::~Connection() {
  drop();
}

void Connection::drop() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

bool Connection::ensure() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) return true;
  drop();
  const auto now = std::chrono::steady_clock::now();
  if (!backoff_->may_try(now)) {
    if (connect_error_.empty()) connect_error_ = "waiting to reconnect";
    return false;
  }
  const char* keys[] = {"connect_timeout",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "fallback_application_name",
                        "dbname",
                        nullptr};
  const char* values[] = {kConnectTimeoutSeconds,
                          kKeepalivesIdleSeconds,
                          kKeepalivesIntervalSeconds,
                          kKeepalivesCount,
                          kTcpUserTimeoutMs,
                          "parleyd",
                          url_.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  std::string error;
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    error = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
  } else {
    // Notices ("relation ... already exists, skipping") are not failures;
    // libpq would print them on stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    for (const auto& statement : setup_) {
      if (auto r = exec(statement.c_str()); !r) {
        error = r.error().detail;
        break;
      }
    }
  }
  if (error.empty()) {
    connect_error_.clear();
    backoff_->succeeded();
    return true;
  }
  drop();
  connect_error_ = std::move(error);
  backoff_->failed(now);
  return false;
}

core::Result<Rows> Connection::check(pg_result* result, std::string_view what, bool rows_expected) {
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || (rows_expected && status == PGRES_TUPLES_OK)) {
    last_sqlstate_.clear();
    return Rows(result);
  }
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string detail =
      fmt::format("postgres {}: {}{}", what,
                  trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_)),
                  last_sqlstate_.empty() ? "" : fmt::format(" ({})", last_sqlstate_));
  if (result) PQclear(result);
  if (PQstatus(conn_) != CONNECTION_OK || connection_sqlstate(last_sqlstate_)) {
    // The session is gone (or going): the next ensure() starts a new one.
    drop();
    return core::fail(unavailable_error(std::move(detail)));
  }
  return core::fail(core::Error::internal(std::move(detail)));
}

std::string Connection::statement_name(std::string_view sql, int params, bool pipelined) {
  const std::string text(sql);
  if (auto it = prepared_.find(text); it != prepared_.end()) return it->second;
  std::string name = fmt::format("s{}", statements_named_++);
  if (pipelined) {
    if (PQsendPrepare(conn_, name.c_str(), text.c_str(), params, nullptr) != 1) return {};
  } else {
    auto prepared =
        check(PQprepare(conn_, name.c_str(), text.c_str(), params, nullptr), "prepare", false);
    if (!prepared) return {};
  }
  prepared_.emplace(text, name);
  return name;
}

core::Result<Rows> Connection::query(std::string_view sql, const Params& params) {
  if (!conn_) return core::fail(unavailable_error("postgres: not connected: " + connect_error_));
  const std::string name = statement_name(sql, params.size(), false);
  if (name.empty()) {
    if (!conn_) return core::fail(unavailable_error("postgres: connection lost at prepare"));
    return core::fail(core::Error::internal("postgres prepare: " + std::string(sql)));
  }
  const auto values = params.pointers();
  return check(
      PQexecPrepared(conn_, name.c_str(), params.size(), values.data(), nullptr, nullptr, 0),
      "query", true);
}

core::Result<std::vector<core::Result<Rows>>> Connection::pipeline(
    const std::vector<Statement>& statements) {
  if (!conn_) return core::fail(unavailable_error("postgres: not connected: " + connect_error_));
  auto lost = [this](const char* what) {
    std::string detail =
        fmt::format("postgres pipeline {}: {}", what, trimmed(PQerrorMessage(conn_)));
    drop();
    return core::fail(unavailable_error(std::move(detail)));
  };
  if (PQenterPipelineMode(conn_) != 1) return lost("mode");
  // Each statement's results: its prepare (when new on this session), then
  // its execution.
  std::vector<bool> prepares;
  std::vector<std::string> prepared_here;  // forgotten again if the pipeline fails
  for (const auto& st : statements) {
    const bool is_new = prepared_.find(std::string(st.sql)) == prepared_.end();
    const std::string name = statement_name(st.sql, st.params.size(), true);
    if (name.empty()) return lost("prepare");
    const auto values = st.params.pointers();
    if (PQsendQueryPrepared(conn_, name.c_str(), st.params.size(), values.data(), nullptr, nullptr,
                            0) != 1) {
      return lost("send");
    }
    prepares.push_back(is_new);
    if (is_new) prepared_here.emplace_back(st.sql);
  }
  if (PQpipelineSync(conn_) != 1) return lost("sync");

  // One result and its terminating null per command; then the sync's.
  auto next = [this](pg_result*& result) {
    result = PQgetResult(conn_);
    if (result == nullptr) return false;
    if (PQgetResult(conn_) != nullptr) return false;  // one result per command here
    return true;
  };
  std::vector<core::Result<Rows>> out;
  out.reserve(statements.size());
  bool failed = false;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    pg_result* result = nullptr;
    if (prepares[i]) {
      if (!next(result)) return lost("read");
      const auto status = PQresultStatus(result);
      if (status == PGRES_COMMAND_OK || status == PGRES_PIPELINE_ABORTED) {
        PQclear(result);
      } else {
        auto r = check(result, "prepare", false);  // clears the result
        if (!conn_) return core::fail(unavailable_error("postgres: connection lost in pipeline"));
        failed = true;
        if (r) {
          out.push_back(core::fail(core::Error::internal("postgres prepare")));
        } else {
          out.push_back(std::move(r));
        }
        // Its execution was skipped: read and drop that result.
        if (!next(result)) return lost("read");
        PQclear(result);
        continue;
      }
    }
    if (!next(result)) return lost("read");
    if (PQresultStatus(result) == PGRES_PIPELINE_ABORTED) {
      PQclear(result);
      out.push_back(core::fail(core::Error::internal("postgres: skipped after a failure")));
      continue;
    }
    auto r = check(result, "query", true);
    if (!conn_) return core::fail(unavailable_error("postgres: connection lost in pipeline"));
    failed = failed || !r;
    out.push_back(std::move(r));
  }
  pg_result* sync = PQgetResult(conn_);
  if (sync == nullptr || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
    if (sync) PQclear(sync);
    return lost("sync");
  }
  PQclear(sync);
  if (PQexitPipelineMode(conn_) != 1) return lost("exit");
  // A prepare the server skipped or refused left no statement behind.
  if (failed) {
    for (const auto& sql : prepared_here) prepared_.erase(sql);
  }
  return out;
}

core::Result<void> Connection::exec(const char* sql) {
  if (!conn_) return core::fail(unavailable_error("postgres: not connected: " + connect_error_));
  auto r = check(PQexec(conn_, sql), "exec", true);
  if (!r) return core::fail(std::move(r.error()));
  return {};
}

}  // namespace parley::store::pg
