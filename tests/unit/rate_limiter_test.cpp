#include "core/rate_limiter.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace parley::core {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// An arbitrary fixed origin: tests pass explicit times, never sleep.
const Clock::time_point kT0 = Clock::time_point{} + 1000h;

TEST(RateLimiter, BurstThenRefusal) {
  RateLimiter limiter(1.0, 5);
  for (int i = 0; i < 5; ++i) {
    const auto d = limiter.take("ip", kT0);
    EXPECT_TRUE(d.allowed) << i;
  }
  const auto refused = limiter.take("ip", kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after_seconds, 1);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  // Refusals do not consume anything and keep refusing at the same instant.
  EXPECT_FALSE(limiter.take("ip", kT0).allowed);
}

TEST(RateLimiter, RetryAfterReflectsTheRate) {
  RateLimiter slow(0.25, 1);  // one token every four seconds
  EXPECT_TRUE(slow.take("k", kT0).allowed);
  auto d = slow.take("k", kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 4);
  d = slow.take("k", kT0 + 2s);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 2);
  EXPECT_TRUE(slow.take("k", kT0 + 4s).allowed);
  // Per-minute limits (RATE_LIMIT_AUTH_PER_MIN): 20 per minute, burst 20.
  RateLimiter auth(20.0 / 60.0, 20);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(auth.take("ip", kT0).allowed);
  d = auth.take("ip", kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 3);
}

TEST(RateLimiter, FractionalWaitRoundsUp) {
  RateLimiter limiter(1.0, 1);
  EXPECT_TRUE(limiter.take("k", kT0).allowed);
  const auto d = limiter.take("k", kT0 + 100ms);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1);  // 0.9 s rounds up
}

TEST(RateLimiter, RefillsOverTime) {
  RateLimiter limiter(2.0, 4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.take("u", kT0).allowed);
  EXPECT_FALSE(limiter.take("u", kT0).allowed);
  // Half a second at two per second: one token.
  EXPECT_TRUE(limiter.take("u", kT0 + 500ms).allowed);
  EXPECT_FALSE(limiter.take("u", kT0 + 500ms).allowed);
  // Another second: two tokens.
  EXPECT_TRUE(limiter.take("u", kT0 + 1500ms).allowed);
  EXPECT_TRUE(limiter.take("u", kT0 + 1500ms).allowed);
  EXPECT_FALSE(limiter.take("u", kT0 + 1500ms).allowed);
}

TEST(RateLimiter, RefillIsCappedAtBurst) {
  RateLimiter limiter(10.0, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.take("u", kT0).allowed);
  EXPECT_FALSE(limiter.take("u", kT0).allowed);
  // An hour idle refills to the burst, no further.
  const auto later = kT0 + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.take("u", later).allowed) << i;
  EXPECT_FALSE(limiter.take("u", later).allowed);
}

TEST(RateLimiter, SteadyRateIsSustained) {
  RateLimiter limiter(20.0, 50);
  int allowed = 0;
  // Ten seconds of 100 requests per second after the burst: about 50 + 200.
  for (int i = 0; i < 1000; ++i) {
    if (limiter.take("chat", kT0 + i * 10ms).allowed) ++allowed;
  }
  EXPECT_GE(allowed, 248);
  EXPECT_LE(allowed, 251);
}

TEST(RateLimiter, DisabledLetsEverythingThrough) {
  RateLimiter limiter(1.0, 1, false);
  for (int i = 0; i < 10000; ++i) {
    const auto d = limiter.take("ip", kT0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.retry_after_seconds, 0);
  }
  EXPECT_TRUE(limiter.take("ip").allowed);  // the real-clock overload too
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(1.0, 2);
  EXPECT_TRUE(limiter.take("a", kT0).allowed);
  EXPECT_TRUE(limiter.take("a", kT0).allowed);
  EXPECT_FALSE(limiter.take("a", kT0).allowed);
  EXPECT_TRUE(limiter.take("b", kT0).allowed);
  EXPECT_TRUE(limiter.take("b", kT0).allowed);
  EXPECT_FALSE(limiter.take("b", kT0).allowed);
  EXPECT_TRUE(limiter.take("", kT0).allowed);
  EXPECT_TRUE(limiter.take("A", kT0).allowed);  // keys are case-sensitive
  EXPECT_TRUE(limiter.take("a ", kT0).allowed);
  EXPECT_FALSE(limiter.take("a", kT0).allowed);
}

TEST(RateLimiter, PruningKeepsBucketsThatAreNotFull) {
  // One new key per millisecond: enough keys to pass every shard's soft cap,
  // so buckets idle for a second (full again) get pruned along the way.
  RateLimiter limiter(1.0, 1);
  constexpr int kKeys = 80000;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(limiter.take("k" + std::to_string(i), kT0 + i * 1ms).allowed) << i;
  }
  const auto end = kT0 + (kKeys - 1) * 1ms;
  // Recent keys are still empty: pruning must not have forgotten them.
  for (int i = kKeys - 500; i < kKeys; ++i) {
    EXPECT_FALSE(limiter.take("k" + std::to_string(i), end).allowed) << i;
  }
  // Old keys have refilled, pruned or not.
  EXPECT_TRUE(limiter.take("k0", end).allowed);
  EXPECT_TRUE(limiter.take("k1000", end).allowed);
}

TEST(RateLimiter, BurstBelowOneIsTreatedAsOne) {
  RateLimiter limiter(1.0, 0);
  EXPECT_TRUE(limiter.take("k", kT0).allowed);
  EXPECT_FALSE(limiter.take("k", kT0).allowed);
}

}  // namespace
}  // namespace parley::core
