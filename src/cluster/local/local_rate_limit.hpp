// LocalRateLimit: the RateLimit contract (cluster/rate_limit.hpp) for a
// single node: its own token buckets, answered at once on the caller's
// thread.
#pragma once

#include "cluster/rate_limit.hpp"
#include "core/rate_limiter.hpp"

namespace parley::cluster {

class LocalRateLimit final : public RateLimit {
 public:
  LocalRateLimit(double rate_per_second, double burst, bool enabled)
      : buckets_(rate_per_second, burst, enabled) {}

  void take(const std::string& key, std::function<void(Decision)> done) override {
    const auto d = buckets_.take(key);
    done(Decision{d.allowed, d.retry_after_seconds});
  }

 private:
  core::RateLimiter buckets_;
};

}  // namespace parley::cluster
