// parley::auth accounts: register, login, token authentication, logout.
//
// DESIGN
// - The rules of the contract's Authentication section live here, so the
//   HTTP routes and the Socket.IO handshake get the same behaviour.
// - All operations are asynchronous. Callbacks run on a store or hasher
//   thread and must post back to the caller's executor.
// - A token is valid when its HS256 signature checks, it has not expired,
//   its user exists and its jti has not been revoked: the last two are one
//   store read (Store::check_token), so a revocation written by any node is
//   seen by every node sharing the database.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/token_cache.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace parley::auth {

template <typename T>
using Callback = std::function<void(core::Result<T>)>;

struct Session {
  store::User user;
  std::string token;
  Claims claims;
};

struct Principal {
  store::User user;
  Claims claims;
};

struct Registration {
  // nullopt: the field was absent from the request.
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> password;
};

class Accounts {
 public:
  Accounts(store::Store& store, PasswordHasher& hasher, Jwt jwt, std::chrono::seconds lifetime,
           std::chrono::milliseconds cache_ttl = std::chrono::milliseconds(10000));

  // Validates (all field problems at once, merged after `prior`), hashes,
  // stores. conflict when the email is taken.
  void register_user(const Registration& input, core::Error prior, Callback<Session> done);
  // invalid_credentials for an unknown email or a wrong password, after the
  // same bcrypt work in both cases.
  void login(const std::string& email, std::string password, Callback<Session> done);
  // unauthorized for any bad, expired or revoked token or a missing user.
  // A recently verified token is answered from the TokenCache, on the
  // caller's thread.
  void authenticate(const std::string& token, Callback<Principal> done);
  // Revokes the token until it expires. Idempotent.
  void logout(const Claims& claims, Callback<void> done);
  // Another node revoked token `jti` (expiring at `exp`, seconds since the
  // epoch): refused here at once, not after the token cache's TTL.
  void revoked_elsewhere(const std::string& jti, std::int64_t exp) { cache_.revoke(jti, exp); }
  // The user's current row (lastSeen included), read from the store;
  // nullopt when the user no longer exists.
  void current_user(std::string user_id, Callback<std::optional<store::User>> done) {
    store_.user_by_id(std::move(user_id), std::move(done));
  }

  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  Session issue(store::User user) const;

  store::Store& store_;
  PasswordHasher& hasher_;
  Jwt jwt_;
  std::chrono::seconds lifetime_;
  TokenCache cache_;
};

}  // namespace parley::auth
