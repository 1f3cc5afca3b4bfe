// PostgreSQL for the conformance tests: the URL of the shared private test
// server (PARLEY_TEST_PG_URL, set by the ctest fixture), a schema of its own
// per test, and private servers a test may stop and start
// (pg_test_server.sh).
#pragma once

#include <optional>
#include <string>

namespace parley::store::conformance {

// PARLEY_TEST_PG_URL, or nullopt when it is unset.
std::optional<std::string> test_pg_url();

// Runs `sql` on `url` in a session of its own; the first row's first column
// of the last statement's result ("" when none), or an error text.
struct SqlOutcome {
  bool ok = false;
  std::string value;  // the first row's first column, or the error text
};
SqlOutcome run_sql(const std::string& url, const std::string& sql);

// `url` with `schema` as the session's search_path, so that a store opened
// on it keeps its tables there.
std::string url_in_schema(const std::string& url, const std::string& schema);

// A PostgreSQL server of the test's own (its own data directory and socket
// under the build tree), stopped by pid when it goes out of scope.
class PrivatePgServer {
 public:
  explicit PrivatePgServer(std::string name);
  ~PrivatePgServer();
  PrivatePgServer(const PrivatePgServer&) = delete;
  PrivatePgServer& operator=(const PrivatePgServer&) = delete;

  // initdb and start; false (with the script's output on stderr) on failure.
  bool start();
  // Fast shutdown: every client session is cut at once.
  bool stop();
  // Starts it again on the same data.
  bool restart();
  std::string url() const;

 private:
  bool run(const char* command) const;
  std::string dir_;
};

}  // namespace parley::store::conformance
