#include "cluster/redis/redis_rate_limit.hpp"

#include <hiredis/hiredis.h>

#include <fmt/format.h>

#include "cluster/redis/redis_connection.hpp"

namespace parley::cluster {

namespace {

// KEYS: the bucket. ARGV: tokens per second, burst.
// {1, 0} when a token was taken; {0, seconds to wait} when refused.
constexpr const char* kTakeLua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'at', 'tokens')
local tokens = tonumber(v[2]) or burst
local at = tonumber(v[1]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'at', now, 'tokens', tostring(tokens))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, wait}
)lua";

}  // namespace

RedisRateLimit::RedisRateLimit(RedisCommands& commands, const std::string& prefix,
                               const std::string& name, double rate_per_second, double burst,
                               bool enabled)
    : commands_(commands),
      key_prefix_(prefix + "ratelimit:" + name + ":"),
      rate_(fmt::format("{}", rate_per_second)),
      burst_(fmt::format("{}", burst)),
      enabled_(enabled),
      script_(commands.add_script(kTakeLua)),
      local_(rate_per_second, burst, enabled) {}

RedisRateLimit::Decision RedisRateLimit::take_locally(const std::string& key) {
  const auto d = local_.take(key);
  return Decision{d.allowed, d.retry_after_seconds};
}

void RedisRateLimit::take(const std::string& key, std::function<void(Decision)> done) {
  if (!enabled_) return done(Decision{});
  const bool sent = commands_.eval(
      script_, {key_prefix_ + key}, {rate_, burst_}, [this, key, done](const redisReply* reply) {
        if (reply == nullptr || size_of(*reply) != 2 ||
            kind_of(element(*reply, 0)) != RedisReplyKind::integer) {
          return done(take_locally(key));
        }
        const bool allowed = element(*reply, 0).integer == 1;
        done(Decision{allowed, allowed ? 0 : static_cast<int>(element(*reply, 1).integer)});
      });
  if (!sent) done(take_locally(key));
}

}  // namespace parley::cluster
