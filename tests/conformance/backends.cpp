// The implementations the conformance suite runs against: SQLite on a
// temporary file, PostgreSQL in a schema of its own on the test server.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>

#include "pg_test_support.hpp"
#include "store/pg/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_conformance.hpp"

namespace parley::store::conformance {

namespace {

namespace fs = std::filesystem;

class SqliteDatabase final : public TestDatabase {
 public:
  SqliteDatabase() {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("parley-conformance-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
  }
  ~SqliteDatabase() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Store> open() override {
    sqlite::SqliteOptions options;
    options.path = (dir_ / "parley.db").string();
    options.synchronous = "normal";  // durability across a machine crash is not under test
    options.readers = 2;
    auto opened = sqlite::SqliteStore::open(options);
    if (!opened) {
      ADD_FAILURE() << "SqliteStore::open: " << opened.error();
      return nullptr;
    }
    return std::move(*opened);
  }
  bool shared_by_nodes() const override { return false; }

 private:
  fs::path dir_;
};

// Read connections per PgStore in the tests: more than one, so reads run
// side by side as in production.
constexpr unsigned kTestPoolSize = 2;

class PgDatabase final : public TestDatabase {
 public:
  PgDatabase(std::string url, std::string schema)
      : url_(std::move(url)), schema_(std::move(schema)) {}
  ~PgDatabase() override {
    const auto dropped = run_sql(url_, "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    if (!dropped.ok) ADD_FAILURE() << "dropping " << schema_ << ": " << dropped.value;
  }

  std::unique_ptr<Store> open() override {
    auto opened = pg::PgStore::open({url_in_schema(url_, schema_), kTestPoolSize});
    if (!opened) {
      ADD_FAILURE() << "PgStore::open: " << opened.error();
      return nullptr;
    }
    return std::move(*opened);
  }
  bool shared_by_nodes() const override { return true; }

 private:
  std::string url_;
  std::string schema_;
};

std::unique_ptr<TestDatabase> make_sqlite(std::string&) {
  return std::make_unique<SqliteDatabase>();
}

std::unique_ptr<TestDatabase> make_postgres(std::string& why) {
  const auto url = test_pg_url();
  if (!url) {
    why =
        "PARLEY_TEST_PG_URL is not set: run the suite through ctest, whose fixture starts a "
        "private PostgreSQL server (tests/conformance/pg_test_server.sh)";
    return nullptr;
  }
  static std::atomic<int> counter{0};
  const std::string schema = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                             "_" + std::to_string(std::random_device{}() % 100000);
  const auto created = run_sql(*url, "CREATE SCHEMA " + schema);
  if (!created.ok) {
    // The server should be there: a failure, not a skip.
    ADD_FAILURE() << "cannot create a schema on the test server (" << *url
                  << "): " << created.value;
    why = "no test database";
    return nullptr;
  }
  return std::make_unique<PgDatabase>(*url, schema);
}

}  // namespace

Backend postgres_backend() {
  return {"Postgres", make_postgres};
}

std::vector<Backend> all_backends() {
  return {{"Sqlite", make_sqlite}, postgres_backend()};
}

}  // namespace parley::store::conformance
