#include "http/message.hpp"

#include <string>

#include <gtest/gtest.h>

namespace parley::http {
namespace {

Request with_cookie(std::string value) {
  Request r;
  r.headers.emplace_back("cookie", std::move(value));
  return r;
}

Request with_query(std::string query) {
  Request r;
  r.query = std::move(query);
  return r;
}

std::string header_value(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// --- headers and params -----------------------------------------------------

TEST(Request, HeaderLookup) {
  Request r;
  r.headers = {{"content-type", "application/json"}, {"x-a", "1"}, {"x-a", "2"}, {"x-empty", ""}};
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("x-a"), "1");  // the first one
  EXPECT_EQ(r.header("missing"), "");
  EXPECT_TRUE(r.has_header("x-empty"));
  EXPECT_FALSE(r.has_header("missing"));
}

TEST(Request, ParamLookup) {
  Request r;
  r.params = {{"id", "42"}, {"other", "x"}};
  EXPECT_EQ(r.param("id"), "42");
  EXPECT_EQ(r.param("other"), "x");
  EXPECT_EQ(r.param("missing"), "");
}

// --- cookies ------------------------------------------------------------------

TEST(RequestCookie, SingleCookie) {
  EXPECT_EQ(with_cookie("token=abc.def.ghi").cookie("token"), "abc.def.ghi");
}

TEST(RequestCookie, SeveralCookies) {
  const Request r = with_cookie("theme=dark; token=t0k3n;lang=en ;  empty=");
  EXPECT_EQ(r.cookie("theme"), "dark");
  EXPECT_EQ(r.cookie("token"), "t0k3n");
  EXPECT_EQ(r.cookie("lang"), "en");
  EXPECT_EQ(r.cookie("empty"), "");
  EXPECT_EQ(r.cookie("missing"), "");
}

TEST(RequestCookie, NamesMatchExactly) {
  const Request r = with_cookie("xtoken=1; token_old=2; Token=3; token=4");
  EXPECT_EQ(r.cookie("token"), "4");
  EXPECT_EQ(r.cookie("Token"), "3");
  EXPECT_EQ(r.cookie("tok"), "");
}

TEST(RequestCookie, FirstOccurrenceWins) {
  EXPECT_EQ(with_cookie("token=first; token=second").cookie("token"), "first");
}

TEST(RequestCookie, QuotedValue) {
  EXPECT_EQ(with_cookie("token=\"quoted value\"").cookie("token"), "quoted value");
  EXPECT_EQ(with_cookie("a=1; token=\"q\"; b=2").cookie("token"), "q");
  EXPECT_EQ(with_cookie("token=\"\"").cookie("token"), "");
  EXPECT_EQ(with_cookie("token=\"").cookie("token"), "\"");  // a lone quote stays
}

TEST(RequestCookie, UrlEncodedValue) {
  EXPECT_EQ(with_cookie("token=a%20b%3Dc%3B").cookie("token"), "a b=c;");
  EXPECT_EQ(with_cookie("token=%E2%82%AC").cookie("token"), "\xE2\x82\xAC");
  EXPECT_EQ(with_cookie("token=\"a%2Cb\"").cookie("token"), "a,b");
  // '+' is not a space in cookies.
  EXPECT_EQ(with_cookie("token=a+b").cookie("token"), "a+b");
  // A bad escape leaves the value as it came.
  EXPECT_EQ(with_cookie("token=100%zz").cookie("token"), "100%zz");
  EXPECT_EQ(with_cookie("token=50%").cookie("token"), "50%");
}

TEST(RequestCookie, ValueMayContainEquals) {
  EXPECT_EQ(with_cookie("token=a=b==").cookie("token"), "a=b==");
}

TEST(RequestCookie, SeveralCookieHeaders) {
  Request r;
  r.headers = {{"cookie", "a=1"}, {"accept", "*/*"}, {"cookie", "token=xyz"}};
  EXPECT_EQ(r.cookie("a"), "1");
  EXPECT_EQ(r.cookie("token"), "xyz");
}

TEST(RequestCookie, MalformedPairsAreSkipped) {
  const Request r = with_cookie(";;garbage; =nameless; token=ok;");
  EXPECT_EQ(r.cookie("token"), "ok");
  EXPECT_EQ(r.cookie("garbage"), "");
  EXPECT_EQ(Request{}.cookie("token"), "");
}

// --- query parameters -----------------------------------------------------------

TEST(RequestQueryParam, DecodesPlusAndPercent) {
  const Request r = with_query("search=hello+world&x=%41%42%43&utf=%C3%A9t%C3%A9&plus=%2B");
  std::string v;
  ASSERT_TRUE(r.query_param("search", v));
  EXPECT_EQ(v, "hello world");
  ASSERT_TRUE(r.query_param("x", v));
  EXPECT_EQ(v, "ABC");
  ASSERT_TRUE(r.query_param("utf", v));
  EXPECT_EQ(v, "\xC3\xA9t\xC3\xA9");
  ASSERT_TRUE(r.query_param("plus", v));
  EXPECT_EQ(v, "+");
}

TEST(RequestQueryParam, EncodedKeys) {
  const Request r = with_query("first%20name=Ann&a+b=1");
  std::string v;
  ASSERT_TRUE(r.query_param("first name", v));
  EXPECT_EQ(v, "Ann");
  ASSERT_TRUE(r.query_param("a b", v));
  EXPECT_EQ(v, "1");
}

TEST(RequestQueryParam, EmptyAndValuelessParameters) {
  const Request r = with_query("empty=&flag&after=1");
  std::string v = "stale";
  ASSERT_TRUE(r.query_param("empty", v));
  EXPECT_EQ(v, "");
  v = "stale";
  ASSERT_TRUE(r.query_param("flag", v));
  EXPECT_EQ(v, "");
  ASSERT_TRUE(r.query_param("after", v));
  EXPECT_EQ(v, "1");
}

TEST(RequestQueryParam, AbsentParameter) {
  std::string v = "unchanged";
  EXPECT_FALSE(with_query("a=1&b=2").query_param("c", v));
  EXPECT_FALSE(with_query("").query_param("a", v));
  EXPECT_FALSE(with_query("ab=1").query_param("a", v));
  EXPECT_EQ(v, "unchanged");
}

TEST(RequestQueryParam, FirstOccurrenceWinsAndEqualsInValues) {
  const Request r = with_query("limit=5&limit=10&expr=a=b");
  std::string v;
  ASSERT_TRUE(r.query_param("limit", v));
  EXPECT_EQ(v, "5");
  ASSERT_TRUE(r.query_param("expr", v));
  EXPECT_EQ(v, "a=b");
}

TEST(RequestQueryParam, BadEscapeKeepsTheRawValue) {
  const Request r = with_query("q=100%&r=%zz&s=%4");
  std::string v;
  ASSERT_TRUE(r.query_param("q", v));
  EXPECT_EQ(v, "100%");
  ASSERT_TRUE(r.query_param("r", v));
  EXPECT_EQ(v, "%zz");
  ASSERT_TRUE(r.query_param("s", v));
  EXPECT_EQ(v, "%4");
}

TEST(RequestQueryParam, SkipsEmptyPairs) {
  const Request r = with_query("&&a=1&&b=2&");
  std::string v;
  ASSERT_TRUE(r.query_param("b", v));
  EXPECT_EQ(v, "2");
}

TEST(UrlDecode, FormAndPathModes) {
  std::string out;
  ASSERT_TRUE(url_decode("a+b%20c", out, true));
  EXPECT_EQ(out, "a b c");
  ASSERT_TRUE(url_decode("a+b%20c", out, false));
  EXPECT_EQ(out, "a+b c");
  ASSERT_TRUE(url_decode("%2f%2F", out, false));
  EXPECT_EQ(out, "//");
  ASSERT_TRUE(url_decode("%00", out, false));
  EXPECT_EQ(out, std::string(1, '\0'));
  ASSERT_TRUE(url_decode("", out, true));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(url_decode("%", out, false));
  EXPECT_FALSE(url_decode("%4", out, false));
  EXPECT_FALSE(url_decode("%g0", out, false));
  EXPECT_FALSE(url_decode("%0g", out, false));
}

// --- error responses ------------------------------------------------------------

TEST(ResponseError, NotFound) {
  const Response r = Response::error(
      core::Error::make(core::ErrorCode::not_found, "User not found", "id=123 (log only)"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(r.body, R"({"error":"not_found","message":"User not found"})");
  EXPECT_TRUE(r.headers.empty());
}

TEST(ResponseError, DetailIsNeverSent) {
  const Response r = Response::error(core::Error::internal("sqlite: disk I/O error at /var/db"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"internal","message":"Internal server error"})");
  EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
}

TEST(ResponseError, ValidationFields) {
  core::Error e = core::Error::validation("email", "must be a valid email address");
  e.fields.push_back({"password", "must be 8-72 bytes"});
  const Response r = Response::error(e);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"error":"validation_failed","message":"Validation failed","fields":)"
            R"({"email":"must be a valid email address","password":"must be 8-72 bytes"}})");
}

TEST(ResponseError, StringsAreJsonEscaped) {
  const Response r =
      Response::error(core::Error::make(core::ErrorCode::conflict, "Say \"hi\"\\\n\x01"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"error":"conflict","message":"Say \"hi\"\\\n\u0001"})");
}

TEST(ResponseError, RateLimitedCarriesRetryAfter) {
  core::Error e = core::Error::make(core::ErrorCode::rate_limited, "Too many requests");
  e.retry_after_seconds = 7;
  Response r = Response::error(e);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"error":"rate_limited","message":"Too many requests"})");
  EXPECT_EQ(header_value(r, "Retry-After"), "7");
  // Never less than one second.
  e.retry_after_seconds = 0;
  EXPECT_EQ(header_value(Response::error(e), "Retry-After"), "1");
  e.retry_after_seconds = -5;
  EXPECT_EQ(header_value(Response::error(e), "Retry-After"), "1");
}

TEST(ResponseError, OnlyRateLimitedHasRetryAfter) {
  core::Error e = core::Error::make(core::ErrorCode::unavailable, "Service unavailable");
  e.retry_after_seconds = 30;
  const Response r = Response::error(e);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(header_value(r, "Retry-After"), "<absent>");
}

TEST(ResponseError, StatusForEveryCode) {
  const std::pair<core::ErrorCode, int> table[] = {
      {core::ErrorCode::invalid_json, 400},      {core::ErrorCode::unsupported_media_type, 415},
      {core::ErrorCode::validation_failed, 400}, {core::ErrorCode::invalid_credentials, 401},
      {core::ErrorCode::unauthorized, 401},      {core::ErrorCode::forbidden, 403},
      {core::ErrorCode::not_found, 404},         {core::ErrorCode::method_not_allowed, 405},
      {core::ErrorCode::conflict, 409},          {core::ErrorCode::payload_too_large, 413},
      {core::ErrorCode::rate_limited, 429},      {core::ErrorCode::unavailable, 503},
      {core::ErrorCode::internal, 500}};
  for (const auto& [code, status] : table) {
    const Response r = Response::error(core::Error::make(code, "m"));
    EXPECT_EQ(r.status, status) << core::error_code_name(code);
    EXPECT_EQ(r.body, std::string(R"({"error":")") + std::string(core::error_code_name(code)) +
                          R"(","message":"m"})");
  }
}

TEST(ResponseJson, SetsStatusBodyAndExtraHeaders) {
  Response r = Response::json(201, R"({"ok":true})");
  r.header("Location", "/api/users/1").header("X-Two", "2");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"ok":true})");
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  ASSERT_EQ(r.headers.size(), 2U);
  EXPECT_EQ(header_value(r, "Location"), "/api/users/1");
  EXPECT_EQ(header_value(r, "X-Two"), "2");
}

}  // namespace
}  // namespace parley::http

namespace parley::http {
namespace {

TEST(PresentedToken, BearerSchemeIsCaseInsensitiveAndWins) {
  EXPECT_EQ(presented_token("Bearer abc", "token=cookie", "token"), "abc");
  EXPECT_EQ(presented_token("bearer abc", "token=cookie", "token"), "abc");
  EXPECT_EQ(presented_token("BEARER abc", "token=cookie", "token"), "abc");
  EXPECT_EQ(presented_token("BeArEr \t abc  ", "", "token"), "abc");
}

TEST(PresentedToken, AnEmptyBearerIsBadNeverTheCookie) {
  EXPECT_EQ(presented_token("Bearer", "token=cookie", "token"), kBadCredential);
  EXPECT_EQ(presented_token("BEARER   ", "token=cookie", "token"), kBadCredential);
}

TEST(PresentedToken, OtherSchemesFallBackToTheCookie) {
  EXPECT_EQ(presented_token("Basic dXNlcg==", "a=1; token=cookie", "token"), "cookie");
  EXPECT_EQ(presented_token("Bearerx abc", "token=cookie", "token"), "cookie");
  EXPECT_EQ(presented_token("", " token = \"c%20d\" ", "token"), "c d");
  EXPECT_EQ(presented_token("", "other=1", "token"), "");
}

}  // namespace
}  // namespace parley::http
