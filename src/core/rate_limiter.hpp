// Token-bucket rate limiting keyed by a string (a client IP, a user id).
// Each key owns a bucket of `burst` tokens refilled at `rate_per_second`;
// a request takes one token or is refused with the seconds to wait.
// Thread-safe: the key space is sharded, one mutex per shard, so callers on
// different I/O threads rarely meet. Idle buckets (full again) are dropped
// when a shard grows past its soft cap, so memory stays bounded by the number
// of recently active keys.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::core {

class RateLimiter {
 public:
  // `enabled == false` lets every request through (RATE_LIMIT_DISABLED).
  RateLimiter(double rate_per_second, double burst, bool enabled = true);

  struct Decision {
    bool allowed;
    int retry_after_seconds;  // >= 1 when refused
  };
  Decision take(std::string_view key);
  // Same, at an explicit time (tests).
  Decision take(std::string_view key, std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  struct Shard {
    std::mutex mutex;  // guards buckets
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kShardSoftCap = 4096;

  void prune(Shard& shard, std::chrono::steady_clock::time_point now);

  double rate_;
  double burst_;
  bool enabled_;
  std::array<Shard, kShards> shards_;
};

}  // namespace parley::core
