#include "cluster/redis/reconnect_backoff.hpp"

#include <gtest/gtest.h>

namespace parley::cluster {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectBackoff, DoublesWithinTheUpperHalfUpToTheCeiling) {
  ReconnectBackoff backoff(milliseconds(100), milliseconds(1000));
  milliseconds bound(100);
  for (int i = 0; i < 20; ++i) {
    const milliseconds wait = backoff.next();
    EXPECT_GE(wait, bound / 2) << i;
    EXPECT_LE(wait, bound) << i;
    bound = std::min(bound * 2, milliseconds(1000));
  }
}

TEST(ReconnectBackoff, ResetStartsFromTheFloor) {
  ReconnectBackoff backoff(milliseconds(10), milliseconds(10'000));
  for (int i = 0; i < 10; ++i) backoff.next();
  backoff.reset();
  EXPECT_LE(backoff.next(), milliseconds(10));
}

TEST(ReconnectBackoff, NonsenseBoundsStillWait) {
  ReconnectBackoff backoff(milliseconds(0), milliseconds(0));
  EXPECT_LE(backoff.next(), milliseconds(1));
  ReconnectBackoff inverted(milliseconds(50), milliseconds(5));
  EXPECT_LE(inverted.next(), milliseconds(50));
  EXPECT_GE(inverted.next(), milliseconds(25));
}

}  // namespace
}  // namespace parley::cluster
