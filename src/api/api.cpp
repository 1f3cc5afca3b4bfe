#include "api/api.hpp"

#include <fmt/format.h>

#include "api/json.hpp"
#include "obs/log.hpp"

namespace parley::api {

Api::Api(ApiOptions options, auth::Accounts& accounts, chat::Directory& directory,
         chat::Messenger& messenger, chat::Groups& groups, obs::Metrics& metrics,
         core::RateLimiter& auth_limiter)
    : options_(std::move(options)),
      accounts_(accounts),
      directory_(directory),
      messenger_(messenger),
      groups_(groups),
      metrics_(metrics),
      auth_limiter_(auth_limiter),
      started_(std::chrono::steady_clock::now()) {}

void Api::mount(http::Router& router) {
  auto bind = [this](void (Api::*fn)(const http::Request&, http::Reply)) {
    return [this, fn](const http::Request& req, http::Reply reply) {
      (this->*fn)(req, std::move(reply));
    };
  };
  router.add("POST", "/api/auth/register", bind(&Api::register_user));
  router.add("POST", "/api/auth/login", bind(&Api::login));
  router.add("POST", "/api/auth/logout", bind(&Api::logout));
  router.add("GET", "/api/auth/me", bind(&Api::me));
  router.add("GET", "/api/users", bind(&Api::list_users));
  router.add("POST", "/api/messages/send", bind(&Api::send_message));
  router.add("GET", "/api/messages/:id", bind(&Api::history));
  router.add("POST", "/api/messages/:id/read", bind(&Api::mark_read));
  router.add("GET", "/api/conversations", bind(&Api::conversations));
  router.add("POST", "/api/conversations", bind(&Api::create_group));
  router.add("GET", "/api/conversations/:id", bind(&Api::conversation));
  router.add("PATCH", "/api/conversations/:id", bind(&Api::rename_group));
  router.add("POST", "/api/conversations/:id/members", bind(&Api::add_members));
  router.add("DELETE", "/api/conversations/:id/members/:userId", bind(&Api::remove_member));
  router.add("GET", "/api/health", bind(&Api::health));
  router.add("GET", "/metrics", bind(&Api::metrics));
}

std::string Api::request_token(const http::Request& req) const {
  return http::presented_token(req.header("authorization"), req.header("cookie"),
                               options_.cookie_name);
}

void Api::with_principal(const http::Request& req, http::Reply reply,
                         std::function<void(const auth::Principal&, const http::Reply&)> next) {
  std::string token = request_token(req);
  if (token.empty()) {
    return reply(http::Response::error(
        core::Error::make(core::ErrorCode::unauthorized, "Authentication required")));
  }
  accounts_.authenticate(token, [reply = std::move(reply),
                                 next = std::move(next)](core::Result<auth::Principal> r) mutable {
    if (!r) {
      if (r.error().code == core::ErrorCode::internal) {
        obs::log(obs::Level::error, "authenticate: {}", r.error().detail);
      }
      return reply(http::Response::error(r.error()));
    }
    next(*r, reply);
  });
}

std::string Api::cookie(const std::string& value, long long max_age) const {
  std::string c = fmt::format("{}={}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax",
                              options_.cookie_name, value, max_age);
  if (max_age == 0) c += "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  if (options_.cookie_secure) c += "; Secure";
  return c;
}

http::Response Api::session_response(int status, const auth::Session& s) const {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("user");
  write_user(w, s.user);
  w.Key("token");
  write_string(w, s.token);
  w.EndObject();
  auto r = http::Response::json(status, take(buf));
  r.header("Set-Cookie", cookie(s.token, accounts_.lifetime().count()));
  return r;
}

}  // namespace parley::api
