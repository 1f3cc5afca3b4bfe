#include "core/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace parley::core {

RateLimiter::RateLimiter(double rate_per_second, double burst, bool enabled)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), enabled_(enabled) {}

RateLimiter::Decision RateLimiter::take(std::string_view key) {
  return take(key, std::chrono::steady_clock::now());
}

RateLimiter::Decision RateLimiter::take(std::string_view key,
                                        std::chrono::steady_clock::time_point now) {
  if (!enabled_) return {true, 0};
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kShardSoftCap) prune(shard, now);
    it = shard.buckets.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {true, 0};
  }
  const double wait = rate_ > 0 ? (1.0 - b.tokens) / rate_ : 60.0;
  return {false, std::max(1, static_cast<int>(std::ceil(wait)))};
}

void RateLimiter::prune(Shard& shard, std::chrono::steady_clock::time_point now) {
  std::erase_if(shard.buckets, [&](const auto& kv) {
    const double elapsed = std::chrono::duration<double>(now - kv.second.updated).count();
    return kv.second.tokens + elapsed * rate_ >= burst_;
  });
}

}  // namespace parley::core
