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

  struct Hit {
    store::User user;
    std::string jti;
    std::int64_t exp = 0;  // seconds since the epoch
  };
  // Keyed by the whole token string: a hit needs no signature check either
  // (the token was verified when it was inserted). Misses once expired.
  std::optional<Hit> find(const std::string& token, std::int64_t now_s);
  // Ignored for a jti revoked here.
  void insert(const std::string& token, Hit hit);
  // `expires_at_s`: the token's exp, after which it needs no remembering.
  void revoke(const std::string& jti, std::int64_t expires_at_s);
  bool revoked_here(const std::string& jti);

 private:
  struct Entry {
    Hit hit;
    Clock::time_point until;
  };
  struct Shard {
    std::mutex mutex;                                       // guards both maps
    std::unordered_map<std::string, Entry> entries;         // by token
    std::unordered_map<std::string, std::int64_t> revoked;  // jti -> exp (s)
  };
  Shard& shard(const std::string& key);
  Shard& revoked_shard(const std::string& jti) { return shard(jti); }

  std::chrono::milliseconds ttl_;
  std::size_t max_per_shard_;
  std::array<Shard, 16> shards_;
};

}  // namespace parley::auth
