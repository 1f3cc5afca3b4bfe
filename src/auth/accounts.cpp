#include "auth/accounts.hpp"

#include "auth/account_rules.hpp"
#include "core/clock.hpp"
#include "core/object_id.hpp"

namespace parley::auth {

namespace {

core::Error invalid_credentials() {
  return core::Error::make(core::ErrorCode::invalid_credentials, "Invalid email or password");
}

core::Error unauthorized(std::string detail) {
  return core::Error::make(core::ErrorCode::unauthorized, "Invalid or expired token",
                           std::move(detail));
}

}  // namespace

Accounts::Accounts(store::Store& store, PasswordHasher& hasher, Jwt jwt,
                   std::chrono::seconds lifetime, std::chrono::milliseconds cache_ttl)
    : store_(store),
      hasher_(hasher),
      jwt_(std::move(jwt)),
      lifetime_(lifetime),
      cache_(cache_ttl) {}

Session Accounts::issue(store::User user) const {
  Claims c;
  c.sub = user.id;
  c.iat = core::now_ms() / 1000;
  c.exp = c.iat + lifetime_.count();
  c.jti = core::new_object_id();
  std::string token = jwt_.sign(c);
  return Session{std::move(user), std::move(token), std::move(c)};
}

void Accounts::register_user(const Registration& input, core::Error prior, Callback<Session> done) {
  core::Error err = std::move(prior);
  err.code = core::ErrorCode::validation_failed;
  err.message = "Validation failed";
  auto check = [&err](const char* field, const std::optional<std::string>& value,
                      auto rule) -> std::string {
    for (const auto& f : err.fields) {
      if (f.field == field) return {};
    }
    if (!value) {
      err.fields.push_back({field, "is required"});
      return {};
    }
    auto r = rule(*value);
    if (!r) {
      err.fields.push_back({field, r.error()});
      return {};
    }
    return *r;
  };
  std::string name = check("name", input.name, normalize_name);
  std::string email = check("email", input.email, normalize_email);
  std::string password = check("password", input.password, check_password);
  if (!err.fields.empty()) return done(core::fail(std::move(err)));

  hasher_.hash(std::move(password), [this, name = std::move(name), email = std::move(email),
                                     done = std::move(done)](std::string hash) mutable {
    if (hash.empty()) return done(core::fail(core::Error::internal("bcrypt failed")));
    store::NewUser nu{core::new_object_id(), std::move(name), std::move(email), std::move(hash),
                      core::now_ms()};
    store_.create_user(std::move(nu), [this, done = std::move(done)](core::Result<store::User> r) {
      if (!r) return done(core::fail(std::move(r.error())));
      done(issue(std::move(*r)));
    });
  });
}

void Accounts::login(const std::string& email, std::string password, Callback<Session> done) {
  auto normalized = normalize_email(email);
  if (!check_password(password) && password.size() > 72) {
    // Longer than any stored password can be: no account can match.
    return done(core::fail(invalid_credentials()));
  }
  if (!normalized) {
    // Not an address any account has; pay the same bcrypt cost anyway.
    return hasher_.verify(std::move(password), {}, [done = std::move(done)](bool) {
      done(core::fail(invalid_credentials()));
    });
  }
  store_.credentials_by_email(
      *normalized, [this, password = std::move(password), done = std::move(done)](
                       core::Result<std::optional<store::Credentials>> r) mutable {
        if (!r) return done(core::fail(std::move(r.error())));
        std::string hash = *r ? (*r)->password_hash : std::string();
        std::optional<store::User> user;
        if (*r) user = std::move((*r)->user);
        hasher_.verify(std::move(password), std::move(hash),
                       [this, user = std::move(user), done = std::move(done)](bool ok) mutable {
                         if (!ok || !user) return done(core::fail(invalid_credentials()));
                         done(issue(std::move(*user)));
                       });
      });
}

void Accounts::authenticate(const std::string& token, Callback<Principal> done) {
  const std::int64_t now_s = core::now_ms() / 1000;
  if (auto hit = cache_.find(token, now_s)) {
    Claims c;
    c.sub = hit->user.id;
    c.exp = hit->exp;
    c.jti = std::move(hit->jti);
    return done(Principal{std::move(hit->user), std::move(c)});
  }
  auto claims = jwt_.verify(token, now_s);
  if (!claims) return done(core::fail(std::move(claims.error())));
  if (cache_.revoked_here(claims->jti)) return done(core::fail(unauthorized("token revoked")));
  std::string sub = claims->sub;
  std::string jti = claims->jti;
  store_.check_token(std::move(sub), std::move(jti),
                     [this, token, c = std::move(*claims),
                      done = std::move(done)](core::Result<store::TokenCheck> r) mutable {
                       if (!r) return done(core::fail(std::move(r.error())));
                       if (!r->user) return done(core::fail(unauthorized("user gone")));
                       if (r->revoked) return done(core::fail(unauthorized("token revoked")));
                       cache_.insert(token, TokenCache::Hit{*r->user, c.jti, c.exp});
                       if (cache_.revoked_here(c.jti)) {
                         return done(core::fail(unauthorized("token revoked")));
                       }
                       done(Principal{std::move(*r->user), std::move(c)});
                     });
}

void Accounts::logout(const Claims& claims, Callback<void> done) {
  // Refused on this node from now on, before the revocation is even stored.
  cache_.revoke(claims.jti, claims.exp);
  store_.revoke_token(claims.jti, claims.exp * 1000, std::move(done));
}

}  // namespace parley::auth
