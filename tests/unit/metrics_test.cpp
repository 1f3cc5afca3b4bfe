#include "obs/metrics.hpp"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace parley::obs {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines(text)) {
    if (l == line) return true;
  }
  return false;
}

std::vector<std::string> with_prefix(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& l : lines(text)) {
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  }
  return out;
}

const char* const kBucketPrefix = "parley_http_request_duration_seconds_bucket";

TEST(Metrics, FreshRenderHasEveryFamilyAndZeroes) {
  const Metrics m;
  const std::string out = m.render();
  EXPECT_TRUE(
      has_line(out, "# HELP parley_http_requests_total HTTP requests by route and status."));
  EXPECT_TRUE(has_line(out, "# TYPE parley_http_requests_total counter"));
  EXPECT_TRUE(with_prefix(out, "parley_http_requests_total{").empty());
  EXPECT_TRUE(has_line(out, "# TYPE parley_http_request_duration_seconds histogram"));
  EXPECT_EQ(with_prefix(out, kBucketPrefix).size(), 14U);  // 13 bounds + +Inf
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_bucket{le=\"+Inf\"} 0"));
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_sum 0.000000"));
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_count 0"));
  EXPECT_TRUE(has_line(out, "# TYPE parley_http_open_connections gauge"));
  EXPECT_TRUE(has_line(out, "parley_http_open_connections 0"));
  EXPECT_EQ(out.back(), '\n');
}

TEST(Metrics, CounterLinesCarryRouteAndStatusLabels) {
  Metrics m;
  const auto users = m.route("/api/users");
  const auto login = m.route("/api/auth/login");
  EXPECT_EQ(m.route("/api/users"), users);  // registered once
  EXPECT_NE(users, login);
  m.record_request(users, 200, 0.001);
  m.record_request(users, 200, 0.001);
  m.record_request(users, 404, 0.001);
  m.record_request(login, 429, 0.001);
  m.record_request(login, 418, 0.001);  // not in the table: "other"
  m.record_request(login, 302, 0.001);
  const std::string out = m.render();
  EXPECT_EQ(with_prefix(out, "parley_http_requests_total{"),
            (std::vector<std::string>{
                R"(parley_http_requests_total{route="/api/users",status="200"} 2)",
                R"(parley_http_requests_total{route="/api/users",status="404"} 1)",
                R"(parley_http_requests_total{route="/api/auth/login",status="429"} 1)",
                R"(parley_http_requests_total{route="/api/auth/login",status="other"} 2)"}));
}

TEST(Metrics, EveryKnownStatusHasItsOwnLabel) {
  Metrics m;
  const auto r = m.route("/r");
  for (int status : {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503, 101}) {
    m.record_request(r, status, 0.001);
    EXPECT_TRUE(has_line(m.render(), "parley_http_requests_total{route=\"/r\",status=\"" +
                                         std::to_string(status) + "\"} 1"))
        << status;
  }
  EXPECT_TRUE(
      with_prefix(m.render(), "parley_http_requests_total{route=\"/r\",status=\"other\"").empty());
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m;
  const auto r = m.route("/x");
  m.record_request(r, 200, 0.0001);  // le 0.0005
  m.record_request(r, 200, 0.0005);  // on a bound: le 0.0005
  m.record_request(r, 200, 0.003);   // le 0.005
  m.record_request(r, 200, 0.2);     // le 0.25
  m.record_request(r, 200, 0.75);    // le 1
  m.record_request(r, 200, 5);       // le 5
  m.record_request(r, 200, 30);      // +Inf only
  const std::string out = m.render();
  const std::string p = kBucketPrefix;
  EXPECT_EQ(with_prefix(out, p),
            (std::vector<std::string>{
                p + R"({le="0.0005"} 2)", p + R"({le="0.001"} 2)", p + R"({le="0.0025"} 2)",
                p + R"({le="0.005"} 3)", p + R"({le="0.01"} 3)", p + R"({le="0.025"} 3)",
                p + R"({le="0.05"} 3)", p + R"({le="0.1"} 3)", p + R"({le="0.25"} 4)",
                p + R"({le="0.5"} 4)", p + R"({le="1"} 5)", p + R"({le="2.5"} 5)",
                p + R"({le="5"} 6)", p + R"({le="+Inf"} 7)"}));
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_count 7"));
}

TEST(Metrics, HistogramSum) {
  Metrics m;
  const auto r = m.route("/x");
  m.record_request(r, 200, 0.25);
  m.record_request(r, 200, 0.5);
  m.record_request(r, 200, 2);
  const std::string out = m.render();
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_sum 2.750000")) << out;
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_count 3"));
}

TEST(Metrics, HistogramOrderBucketsSumCount) {
  Metrics m;
  m.record_request(m.route("/x"), 200, 0.01);
  const auto all = lines(m.render());
  std::size_t inf = 0, sum = 0, count = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == std::string(kBucketPrefix) + R"({le="+Inf"} 1)") inf = i;
    if (all[i].rfind("parley_http_request_duration_seconds_sum ", 0) == 0) sum = i;
    if (all[i].rfind("parley_http_request_duration_seconds_count ", 0) == 0) count = i;
  }
  ASSERT_GT(inf, 0U);
  EXPECT_EQ(sum, inf + 1);
  EXPECT_EQ(count, sum + 1);
}

TEST(Metrics, UnknownRouteStillFeedsTheHistogram) {
  Metrics m;
  m.record_request(99, 200, 0.5);
  const std::string out = m.render();
  EXPECT_TRUE(with_prefix(out, "parley_http_requests_total{").empty());
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_count 1"));
  EXPECT_TRUE(has_line(out, "parley_http_request_duration_seconds_sum 0.500000"));
}

TEST(Metrics, NamedCountersAndGauges) {
  Metrics m;
  Counter& sent = m.counter("parley_messages_sent_total", "Messages sent.");
  Gauge& online = m.gauge("parley_users_online", "Users online.");
  sent.inc();
  sent.inc(4);
  online.set(3);
  online.add(-5);
  m.open_connections().add(2);
  const std::string out = m.render();
  EXPECT_NE(out.find("# HELP parley_messages_sent_total Messages sent.\n"
                     "# TYPE parley_messages_sent_total counter\n"
                     "parley_messages_sent_total 5\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("# HELP parley_users_online Users online.\n"
                     "# TYPE parley_users_online gauge\n"
                     "parley_users_online -2\n"),
            std::string::npos)
      << out;
  EXPECT_TRUE(has_line(out, "parley_http_open_connections 2"));
}

}  // namespace
}  // namespace parley::obs
