#include "http/static_site.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "http/content_type.hpp"

namespace parley::http {
namespace {

namespace fs = std::filesystem;

TEST(StaticFileKey, RootAndNestedPaths) {
  EXPECT_EQ(static_file_key("/"), "index.html");
  EXPECT_EQ(static_file_key(""), "index.html");
  EXPECT_EQ(static_file_key("/index.html"), "index.html");
  EXPECT_EQ(static_file_key("/assets/app-Ab12Cd34.js"), "assets/app-Ab12Cd34.js");
  EXPECT_EQ(static_file_key("//assets///./x.css"), "assets/x.css");
  EXPECT_EQ(static_file_key("/a%20b.txt"), "a b.txt");
  EXPECT_EQ(static_file_key("/chat/"), "chat");
}

TEST(StaticFileKey, RejectsEscapesAndHostileInput) {
  EXPECT_EQ(static_file_key("/../etc/passwd"), std::nullopt);
  EXPECT_EQ(static_file_key("/assets/../../x"), std::nullopt);
  EXPECT_EQ(static_file_key("/%2e%2e/secret"), std::nullopt);
  EXPECT_EQ(static_file_key("/a%00b"), std::nullopt);
  EXPECT_EQ(static_file_key("/a\\..\\b"), std::nullopt);
  EXPECT_EQ(static_file_key("/a%5cb"), std::nullopt);
  EXPECT_EQ(static_file_key("/.env"), std::nullopt);
  EXPECT_EQ(static_file_key("/x/.git/config"), std::nullopt);
  EXPECT_EQ(static_file_key("/bad%zz"), std::nullopt);
  EXPECT_EQ(static_file_key("/" + std::string(kMaxStaticPathBytes, 'a')), std::nullopt);
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/a-1.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/a-1.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("f.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("dir.js/file"), "application/octet-stream");
  EXPECT_EQ(content_type_for("x.exe"), "application/octet-stream");
}

TEST(HashedAsset, OnlyViteStyleNamesUnderAssets) {
  EXPECT_TRUE(is_hashed_asset("assets/index-B7xk2_Qa.js"));
  EXPECT_TRUE(is_hashed_asset("assets/index-DfT3-9aZ.css"));
  EXPECT_FALSE(is_hashed_asset("assets/index.js"));
  EXPECT_FALSE(is_hashed_asset("assets/a-b.js"));  // too short to be a hash
  EXPECT_FALSE(is_hashed_asset("index-B7xk2_Qa.js"));
  EXPECT_FALSE(is_hashed_asset("index.html"));
}

TEST(EtagMatches, ListsWeakAndStar) {
  EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("\"x\", W/\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("*", "\"a\""));
  EXPECT_FALSE(etag_matches("\"b\"", "\"a\""));
  EXPECT_FALSE(etag_matches("", "\"a\""));
}

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("parley-static-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "site" / "assets");
    write("site/index.html", "<!doctype html><title>Parley</title>");
    write("site/assets/index-B7xk2_Qa.js", "console.log(1)");
    write("site/robots.txt", "User-agent: *");
    write("site/.env", "SECRET=1");
    write("outside.txt", "secret");
    fs::create_symlink(root_ / "outside.txt", root_ / "site" / "leak.txt");
    fs::create_directory_symlink(root_, root_ / "site" / "up");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }

  StaticSite load(std::size_t max_total = 1 << 20) {
    auto site = StaticSite::load(root_ / "site", StaticSiteLimits{max_total}, {"/api", "/metrics"});
    EXPECT_TRUE(site) << (site ? "" : site.error().detail);
    return std::move(*site);
  }

  static Response get(const StaticSite& site, std::string path, std::string accept = "*/*",
                      std::string if_none_match = {}, std::string method = "GET") {
    Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.headers.emplace_back("accept", std::move(accept));
    if (!if_none_match.empty()) req.headers.emplace_back("if-none-match", std::move(if_none_match));
    return site.respond(req);
  }

  static std::string header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }

  fs::path root_;
};

TEST_F(StaticSiteTest, LoadsRegularFilesOnlyNeverSymlinks) {
  const auto site = load();
  EXPECT_NE(site.find("index.html"), nullptr);
  EXPECT_NE(site.find("assets/index-B7xk2_Qa.js"), nullptr);
  EXPECT_EQ(site.find("leak.txt"), nullptr);
  EXPECT_EQ(site.find("up/outside.txt"), nullptr);
  EXPECT_EQ(get(site, "/leak.txt").status, 404);
  EXPECT_EQ(get(site, "/up/outside.txt").status, 404);
  EXPECT_EQ(get(site, "/.env").status, 404);  // loaded, but never served
}

TEST_F(StaticSiteTest, ServesWithTypeEtagAndCachePolicy) {
  const auto site = load();
  const auto index = get(site, "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>Parley</title>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(index, "Cache-Control"), "no-cache");
  EXPECT_FALSE(header(index, "ETag").empty());

  const auto js = get(site, "/assets/index-B7xk2_Qa.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_NE(header(js, "ETag"), header(index, "ETag"));
}

TEST_F(StaticSiteTest, IfNoneMatchGives304WithoutBody) {
  const auto site = load();
  const auto etag = header(get(site, "/robots.txt"), "ETag");
  const auto again = get(site, "/robots.txt", "*/*", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(header(again, "ETag"), etag);
  EXPECT_EQ(get(site, "/robots.txt", "*/*", "\"other\"").status, 200);
}

TEST_F(StaticSiteTest, HtmlRequestsForUnknownPathsGetIndex) {
  const auto site = load();
  const auto page = get(site, "/c/42", "text/html,application/xhtml+xml");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(get(site, "/c/42", "application/json").status, 404);
  EXPECT_EQ(get(site, "/missing.js", "text/html").status, 404);
}

TEST_F(StaticSiteTest, ExcludedPrefixesAndOtherMethodsAreJson404) {
  const auto site = load();
  const auto api = get(site, "/api/nope", "text/html");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.content_type, "application/json; charset=utf-8");
  EXPECT_NE(api.body.find("not_found"), std::string::npos);
  EXPECT_EQ(get(site, "/API", "text/html").status, 404);
  EXPECT_EQ(get(site, "/metrics/x", "text/html").status, 404);
  EXPECT_EQ(get(site, "/apiary", "text/html").status, 200);  // not under /api
  EXPECT_EQ(get(site, "/", "text/html", {}, "POST").status, 404);
  EXPECT_EQ(get(site, "/", "text/html", {}, "HEAD").status, 200);
}

TEST_F(StaticSiteTest, RefusesARootOverItsBound) {
  auto site = StaticSite::load(root_ / "site", StaticSiteLimits{16}, {});
  ASSERT_FALSE(site);
  EXPECT_NE(site.error().detail.find("WEB_MAX_BYTES"), std::string::npos);
  EXPECT_FALSE(StaticSite::load(root_ / "missing", StaticSiteLimits{}, {}));
}

}  // namespace
}  // namespace parley::http
