// parley::api: the contract's REST routes, translating wire JSON to domain
// calls (auth::Accounts, chat::*) and domain results back to wire JSON.
// Handlers run on an I/O thread and never block: domain calls complete on
// store or hasher threads and answer through http::Reply, which moves the
// response back to the connection's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "auth/accounts.hpp"
#include "chat/directory.hpp"
#include "chat/groups.hpp"
#include "chat/messenger.hpp"
#include "core/rate_limiter.hpp"
#include "http/router.hpp"
#include "obs/metrics.hpp"

namespace parley::api {

struct ApiOptions {
  std::string cookie_name = "token";
  bool cookie_secure = false;
  std::string version;
  // Told of each revoked token (logout: its jti and exp), to end its
  // sockets on every node.
  std::function<void(const std::string& jti, std::int64_t exp)> on_logout;
  std::size_t json_max_depth = 64;  // JSON_MAX_DEPTH
  // With several nodes (REDIS_URL): whether the broker is connected, for
  // /api/health. Unset with one node.
  std::function<bool()> broker_connected;
};

class Api {
 public:
  Api(ApiOptions options, auth::Accounts& accounts, chat::Directory& directory,
      chat::Messenger& messenger, chat::Groups& groups, obs::Metrics& metrics,
      core::RateLimiter& auth_limiter);

  void mount(http::Router& router);

 private:
  // Routes.
  void register_user(const http::Request& req, http::Reply reply);
  void login(const http::Request& req, http::Reply reply);
  void logout(const http::Request& req, http::Reply reply);
  void me(const http::Request& req, http::Reply reply);
  void list_users(const http::Request& req, http::Reply reply);
  void send_message(const http::Request& req, http::Reply reply);
  void history(const http::Request& req, http::Reply reply);
  void conversations(const http::Request& req, http::Reply reply);
  void conversation(const http::Request& req, http::Reply reply);
  void mark_read(const http::Request& req, http::Reply reply);
  void create_group(const http::Request& req, http::Reply reply);
  void rename_group(const http::Request& req, http::Reply reply);
  void add_members(const http::Request& req, http::Reply reply);
  void remove_member(const http::Request& req, http::Reply reply);
  void health(const http::Request& req, http::Reply reply);
  void metrics(const http::Request& req, http::Reply reply);

  // The token of a request per the contract: a Bearer header wins (and a bad
  // one never falls back to the cookie); another scheme is ignored.
  std::string request_token(const http::Request& req) const;
  // Runs `next` with the authenticated principal, or answers 401.
  void with_principal(const http::Request& req, http::Reply reply,
                      std::function<void(const auth::Principal&, const http::Reply&)> next);
  http::Response session_response(int status, const auth::Session& s) const;
  std::string cookie(const std::string& value, long long max_age) const;

  ApiOptions options_;
  auth::Accounts& accounts_;
  chat::Directory& directory_;
  chat::Messenger& messenger_;
  chat::Groups& groups_;
  obs::Metrics& metrics_;
  core::RateLimiter& auth_limiter_;
  std::chrono::steady_clock::time_point started_;

  // Health: the store's answer (Messenger::ping) is cached for a second so
  // health checks at any rate cost at most one store round trip per second.
  std::atomic<long long> health_checked_ms_{0};  // steady ms of the last answer
  std::atomic<bool> health_ok_{true};
  std::atomic<bool> health_probe_in_flight_{false};
  std::atomic<long long> health_probe_started_ms_{0};
};

}  // namespace parley::api
