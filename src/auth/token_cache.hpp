// A short-lived cache of verified tokens, so that an authenticated request
// does not pay a store round trip to learn again that its user exists and
// its token is not revoked.
//
// Correctness: a token revoked on this node is refused at once (revoke()
// records it before logout answers, and a late store answer cannot
// re-admit it). A token revoked on another node sharing the database is
// refused here at most `ttl` later. Thread-safe, sharded.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/store.hpp"

namespace parley::auth {

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  // `ttl` zero disables the cache (every check goes to the store).
  explicit TokenCache(std::chrono::milliseconds ttl, std::size_t max_entries = 200000);

  std::optional<store::User> find(const std::string& jti);
  // Ignored for a jti revoked here.
  void insert(const std::string& jti, const store::User& user);
  // `expires_at_s`: the token's exp, after which it needs no remembering.
  void revoke(const std::string& jti, std::int64_t expires_at_s);
  bool revoked_here(const std::string& jti);

 private:
  struct Entry {
    store::User user;
    Clock::time_point until;
  };
  struct Shard {
    std::mutex mutex;  // guards both maps
    std::unordered_map<std::string, Entry> entries;
    std::unordered_map<std::string, std::int64_t> revoked;  // jti -> exp (s)
  };
  Shard& shard(const std::string& jti);

  std::chrono::milliseconds ttl_;
  std::size_t max_per_shard_;
  std::array<Shard, 16> shards_;
};

}  // namespace parley::auth
