#include "http/router.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace parley::http {
namespace {

using Kind = Router::Match::Kind;
using Params = std::vector<std::pair<std::string, std::string>>;

// A handler that answers with its own name, so a test can tell which one matched.
Handler named(std::string name) {
  return
      [name = std::move(name)](const Request&, Reply reply) { reply(Response::json(200, name)); };
}

std::string call(const Router::Match& m) {
  if (!m.handler) return "<none>";
  std::string body;
  (*m.handler)(Request{}, [&](Response r) { body = std::move(r.body); });
  return body;
}

Router make_router() {
  Router r;
  r.add("GET", "/health", named("health"));
  r.add("GET", "/api/users", named("list users"));
  r.add("GET", "/api/users/me", named("me"));
  r.add("GET", "/api/users/:id", named("user by id"));
  r.add("POST", "/api/auth/login", named("login"));
  r.add("PATCH", "/api/messages/:id/read", named("mark read"));
  r.add("GET", "/api/conversations/:a/messages/:b", named("two params"));
  return r;
}

TEST(Router, StaticRoute) {
  const Router r = make_router();
  const auto m = r.match("GET", "/api/users");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "list users");
  EXPECT_EQ(m.label, "/api/users");
  EXPECT_TRUE(m.params.empty());
  EXPECT_TRUE(m.allow.empty());
}

TEST(Router, ParamRoute) {
  const Router r = make_router();
  auto m = r.match("GET", "/api/users/65f0c0ffee0123456789abcd");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "user by id");
  EXPECT_EQ(m.label, "/api/users/:id");
  EXPECT_EQ(m.params, (Params{{"id", "65f0c0ffee0123456789abcd"}}));

  m = r.match("PATCH", "/api/messages/abc/read");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "mark read");
  EXPECT_EQ(m.label, "/api/messages/:id/read");
  EXPECT_EQ(m.params, (Params{{"id", "abc"}}));

  m = r.match("GET", "/api/conversations/x1/messages/y2");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params, (Params{{"a", "x1"}, {"b", "y2"}}));
}

TEST(Router, ParamValuesArePercentDecodedAndKeepTheirCase) {
  const Router r = make_router();
  auto m = r.match("GET", "/api/users/Hello%20World");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params, (Params{{"id", "Hello World"}}));
  // '+' is not a space in a path.
  m = r.match("GET", "/api/users/a+b");
  EXPECT_EQ(m.params, (Params{{"id", "a+b"}}));
  // A bad escape is kept as it came.
  m = r.match("GET", "/api/users/100%zz");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params, (Params{{"id", "100%zz"}}));
}

TEST(Router, EarlierRouteWinsOverParam) {
  const Router r = make_router();
  const auto m = r.match("GET", "/api/users/me");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "me");
  EXPECT_EQ(m.label, "/api/users/me");
}

TEST(Router, StaticSegmentsMatchCaseInsensitively) {
  const Router r = make_router();
  for (const char* path : {"/API/USERS", "/Api/Users", "/api/USERS"}) {
    const auto m = r.match("GET", path);
    ASSERT_EQ(m.kind, Kind::found) << path;
    EXPECT_EQ(call(m), "list users");
    EXPECT_EQ(m.label, "/api/users");
  }
  const auto m = r.match("PATCH", "/API/Messages/AbC/READ");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params, (Params{{"id", "AbC"}}));
}

TEST(Router, MethodsAreCaseSensitive) {
  const Router r = make_router();
  EXPECT_NE(r.match("get", "/api/users").kind, Kind::found);
}

TEST(Router, TrailingSlashIsIgnored) {
  const Router r = make_router();
  auto m = r.match("GET", "/api/users/");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "list users");
  m = r.match("GET", "/api/users/abc/");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params, (Params{{"id", "abc"}}));
  m = r.match("GET", "/health/");
  EXPECT_EQ(m.kind, Kind::found);
}

TEST(Router, HeadIsServedByGet) {
  const Router r = make_router();
  auto m = r.match("HEAD", "/api/users");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "list users");
  m = r.match("HEAD", "/api/users/xyz");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params, (Params{{"id", "xyz"}}));
}

TEST(Router, WrongMethodOnAGetRouteAllowsGetAndHead) {
  const Router r = make_router();
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    const auto m = r.match(method, "/api/users");
    ASSERT_EQ(m.kind, Kind::method_not_allowed) << method;
    EXPECT_EQ(m.allow, "GET, HEAD");
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_EQ(m.label, "/api/users");
  }
}

TEST(Router, WrongMethodOnAPostRouteAllowsPost) {
  const Router r = make_router();
  for (const char* method : {"GET", "HEAD", "PUT", "DELETE"}) {
    const auto m = r.match(method, "/api/auth/login");
    ASSERT_EQ(m.kind, Kind::method_not_allowed) << method;
    EXPECT_EQ(m.allow, "POST");
    EXPECT_EQ(m.label, "/api/auth/login");
  }
}

TEST(Router, SeveralMethodsOnOnePath) {
  Router r;
  r.add("GET", "/api/items", named("list"));
  r.add("POST", "/api/items", named("create"));
  auto m = r.match("POST", "/api/items");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "create");
  m = r.match("HEAD", "/api/items");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(call(m), "list");
  m = r.match("DELETE", "/api/items");
  ASSERT_EQ(m.kind, Kind::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD, POST");
}

TEST(Router, NotFound) {
  const Router r = make_router();
  for (const char* path : {"/nope", "/api", "/api/user", "/api/users/a/b", "/api/messages/x",
                           "/api/messages/x/unread", "", "/"}) {
    const auto m = r.match("GET", path);
    EXPECT_EQ(m.kind, Kind::not_found) << path;
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_TRUE(m.allow.empty());
    EXPECT_TRUE(m.params.empty());
  }
  EXPECT_EQ(Router{}.match("GET", "/").kind, Kind::not_found);
}

TEST(Router, PatternsAreListedOnce) {
  Router r;
  r.add("GET", "/a", named("1"));
  r.add("POST", "/a", named("2"));
  r.add("GET", "/b/:id", named("3"));
  EXPECT_EQ(r.patterns(), (std::vector<std::string>{"/a", "/b/:id"}));
}

TEST(Router, FallbackTakesPathsNoRouteMatches) {
  Router r = make_router();
  r.set_fallback(named("site"));
  const auto page = r.match("GET", "/some/page");
  EXPECT_EQ(page.kind, Kind::found);
  EXPECT_EQ(page.label, Router::kFallbackLabel);
  EXPECT_EQ(call(page), "site");
  // A path a route has keeps its meaning: wrong method is still a 405.
  EXPECT_EQ(r.match("DELETE", "/health").kind, Kind::method_not_allowed);
  EXPECT_EQ(call(r.match("GET", "/health")), "health");
  EXPECT_EQ(r.patterns().front(), Router::kFallbackLabel);
}

}  // namespace
}  // namespace parley::http
