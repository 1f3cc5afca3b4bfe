// POST /api/auth/register, /login, /logout and GET /api/auth/me.
#include "api/api.hpp"
#include "api/json.hpp"
#include "obs/log.hpp"

namespace parley::api {

namespace {

// Over the per-IP attempt budget: the 429 to send, if any.
std::optional<http::Response> limited(core::RateLimiter& limiter, const http::Request& req) {
  const auto d = limiter.take(req.client_ip);
  if (d.allowed) return std::nullopt;
  core::Error e =
      core::Error::make(core::ErrorCode::rate_limited, "Too many attempts, try again later");
  e.retry_after_seconds = d.retry_after_seconds;
  return http::Response::error(e);
}

}  // namespace

void Api::register_user(const http::Request& req, http::Reply reply) {
  if (auto r = limited(auth_limiter_, req)) return reply(std::move(*r));
  auto body = parse_body(req, options_.json_max_depth);
  if (!body) return reply(http::Response::error(body.error()));
  core::Error type_errors;
  auth::Registration input;
  input.name = string_member(*body, "name", type_errors);
  input.email = string_member(*body, "email", type_errors);
  input.password = string_member(*body, "password", type_errors);
  accounts_.register_user(input, std::move(type_errors),
                          [this, reply = std::move(reply)](core::Result<auth::Session> r) {
                            if (!r) return reply(failure(r.error(), "register"));
                            reply(session_response(201, *r));
                          });
}

void Api::login(const http::Request& req, http::Reply reply) {
  if (auto r = limited(auth_limiter_, req)) return reply(std::move(*r));
  auto body = parse_body(req, options_.json_max_depth);
  if (!body) return reply(http::Response::error(body.error()));
  core::Error err;
  auto email = string_member(*body, "email", err);
  auto password = string_member(*body, "password", err);
  if (!err.fields.empty() || !email || !password || email->empty() || password->empty()) {
    err.code = core::ErrorCode::validation_failed;
    err.message = "Validation failed";
    auto missing = [&err](const char* field, const std::optional<std::string>& v) {
      for (const auto& f : err.fields) {
        if (f.field == field) return;
      }
      if (!v || v->empty()) err.fields.push_back({field, "is required"});
    };
    missing("email", email);
    missing("password", password);
    return reply(http::Response::error(err));
  }
  accounts_.login(*email, std::move(*password),
                  [this, reply = std::move(reply)](core::Result<auth::Session> r) {
                    if (!r) return reply(failure(r.error(), "login"));
                    reply(session_response(200, *r));
                  });
}

void Api::logout(const http::Request& req, http::Reply reply) {
  auto answer = [this](http::Reply& rep) {
    auto r = http::Response::json(200, R"({"message":"Logged out"})");
    r.header("Set-Cookie", cookie("", 0));
    rep(std::move(r));
  };
  std::string token = request_token(req);
  if (token.empty()) return answer(reply);
  accounts_.authenticate(
      token, [this, answer, reply = std::move(reply)](core::Result<auth::Principal> p) mutable {
        // Logging out with a bad or expired token still clears the cookie.
        if (!p) return answer(reply);
        accounts_.logout(p->claims, [this, jti = p->claims.jti, exp = p->claims.exp, answer,
                                     reply = std::move(reply)](core::Result<void> r) mutable {
          if (!r) return reply(failure(r.error(), "logout"));
          if (options_.on_logout) options_.on_logout(jti, exp);
          answer(reply);
        });
      });
}

void Api::me(const http::Request& req, http::Reply reply) {
  // The principal may come from the token cache; read the row itself so
  // that lastSeen and the rest are current.
  with_principal(req, std::move(reply), [this](const auth::Principal& p, const http::Reply& rep) {
    accounts_.current_user(p.user.id, [rep](core::Result<std::optional<store::User>> r) {
      if (!r) return rep(failure(r.error(), "me"));
      if (!*r) {
        return rep(http::Response::error(
            core::Error::make(core::ErrorCode::unauthorized, "Invalid or expired token")));
      }
      rep(http::Response::json(200, user_json(**r)));
    });
  });
}

}  // namespace parley::api
