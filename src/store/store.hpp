// parley::store: the persistence contract the domain (auth, chat) relies on.
//
// DESIGN
// - Every operation is asynchronous: it returns at once and later invokes its
//   callback exactly once, on a thread the store owns (never the caller's).
//   Callbacks must be short and must not block: callers post the result back
//   to their own executor (the HTTP and socket layers do this). Callbacks
//   must not throw.
// - Writes are durable when their callback reports success: the transaction
//   holding them is committed per the store's durability setting (SQLite:
//   WAL with synchronous=FULL by default; PostgreSQL: synchronous commit).
//   Implementations batch concurrent writes into one transaction (group
//   commit); a write's callback runs only after its batch committed.
// - Reads never wait behind the writer (SQLite: WAL readers), and see every
//   write whose callback has already run.
// - Expected outcomes are values: conflict, not found (as std::nullopt).
//   Unexpected failures (I/O, corruption) are ErrorCode::internal with the
//   backend's text in Error::detail, never in Error::message.
// - After close() returns, no callback runs any more; operations issued
//   during close() either complete or fail with ErrorCode::unavailable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace parley::store {

using core::EpochMs;

template <typename T>
using Callback = std::function<void(core::Result<T>)>;

struct User {
  std::string id;  // ObjectId hex
  std::string name;
  std::string email;  // lower-cased
  std::optional<std::string> avatar;
  EpochMs created_at = 0;
  std::optional<EpochMs> last_seen;
};

struct NewUser {
  std::string id;
  std::string name;
  std::string email;  // lower-cased by the caller
  std::string password_hash;
  EpochMs created_at = 0;
};

struct Credentials {
  User user;
  std::string password_hash;
};

// What authenticating a token needs in one round trip.
struct TokenCheck {
  std::optional<User> user;  // nullopt: the user does not exist
  bool revoked = false;      // the token's jti is revoked
};

struct UserQuery {
  std::string exclude_id;  // the caller
  std::string prefix;      // lower-cased; matches a name or email prefix
  std::size_t limit = 50;
  std::size_t skip = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Fails with ErrorCode::conflict when the email is taken. Under concurrent
  // creates with one email, exactly one succeeds.
  virtual void create_user(NewUser user, Callback<User> done) = 0;
  virtual void user_by_id(std::string id, Callback<std::optional<User>> done) = 0;
  virtual void credentials_by_email(std::string email,
                                    Callback<std::optional<Credentials>> done) = 0;
  // Users ordered by name (binary), then id; `prefix` compares
  // case-insensitively (ASCII) against the start of the name or the email.
  virtual void list_users(UserQuery query, Callback<std::vector<User>> done) = 0;
  virtual void set_last_seen(std::string user_id, EpochMs at, Callback<void> done) = 0;

  // Token revocation (logout). Idempotent; kept until `expires_at`.
  virtual void revoke_token(std::string jti, EpochMs expires_at, Callback<void> done) = 0;
  // The user for a token's `sub` and whether its `jti` is revoked.
  virtual void check_token(std::string user_id, std::string jti, Callback<TokenCheck> done) = 0;
  // Deletes revocations that expired before `now`; returns how many.
  virtual void purge_revocations(EpochMs now, Callback<std::size_t> done) = 0;

  // Answers when the database can serve a query (health checks).
  virtual void ping(Callback<void> done) = 0;

  // Finishes queued writes, then releases connections and threads.
  virtual void close() = 0;
};

}  // namespace parley::store
