#include "pg_test_support.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#ifndef PARLEY_TEST_PG_SCRIPT
#error "PARLEY_TEST_PG_SCRIPT (the path of pg_test_server.sh) must be defined by the build"
#endif
#ifndef PARLEY_TEST_PG_DIR
#error "PARLEY_TEST_PG_DIR (where private servers live) must be defined by the build"
#endif

namespace parley::store::conformance {

std::optional<std::string> test_pg_url() {
  const char* url = std::getenv("PARLEY_TEST_PG_URL");
  if (!url || !*url) return std::nullopt;
  return std::string(url);
}

SqlOutcome run_sql(const std::string& url, const std::string& sql) {
  SqlOutcome out;
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    out.value = PQerrorMessage(conn);
    PQfinish(conn);
    return out;
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(res);
  out.ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!out.ok) {
    out.value = PQresultErrorMessage(res);
  } else if (PQntuples(res) > 0 && PQnfields(res) > 0) {
    out.value = PQgetvalue(res, 0, 0);
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

std::string url_in_schema(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

PrivatePgServer::PrivatePgServer(std::string name)
    : dir_(std::string(PARLEY_TEST_PG_DIR) + "/" + name + "-" + std::to_string(::getpid())) {}

PrivatePgServer::~PrivatePgServer() {
  if (run("stop")) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool PrivatePgServer::run(const char* command) const {
  const std::string line =
      std::string("'") + PARLEY_TEST_PG_SCRIPT + "' " + command + " '" + dir_ + "'";
  return std::system(line.c_str()) == 0;
}

bool PrivatePgServer::start() {
  return run("start");
}

bool PrivatePgServer::stop() {
  return run("stop");
}

bool PrivatePgServer::restart() {
  return run("restart");
}

std::string PrivatePgServer::url() const {
  return "postgresql:///parley?host=" + dir_ + "/socket&port=5432&user=parley";
}

}  // namespace parley::store::conformance
