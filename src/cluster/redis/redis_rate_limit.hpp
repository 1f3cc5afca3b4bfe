// RedisRateLimit: the RateLimit contract (cluster/rate_limit.hpp) across
// the nodes that share one Redis. Selected by REDIS_URL.
//
// Each key's token bucket is a Redis hash (P ratelimit:<name>:<key>: tokens
// and the time they were counted, by Redis's clock), taken from by one Lua
// script, so nodes never race on it; it expires once it would be full
// again. While Redis is out of reach, or the command queue is full, the
// node's own buckets decide.
#pragma once

#include <string>

#include "cluster/rate_limit.hpp"
#include "cluster/redis/redis_commands.hpp"
#include "core/rate_limiter.hpp"

namespace parley::cluster {

class RedisRateLimit final : public RateLimit {
 public:
  // Adds its script to `commands`, which must not be started yet. `name`
  // keeps the buckets of different limits apart.
  RedisRateLimit(RedisCommands& commands, const std::string& prefix, const std::string& name,
                 double rate_per_second, double burst, bool enabled);

  void take(const std::string& key, std::function<void(Decision)> done) override;

 private:
  Decision take_locally(const std::string& key);

  RedisCommands& commands_;
  const std::string key_prefix_;
  const std::string rate_;
  const std::string burst_;
  const bool enabled_;
  RedisCommands::ScriptId script_;
  core::RateLimiter local_;
};

}  // namespace parley::cluster
