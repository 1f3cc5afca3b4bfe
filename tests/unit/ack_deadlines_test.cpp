#include "socketio/ack_deadlines.hpp"

#include <set>

#include <gtest/gtest.h>

namespace parley::socketio {
namespace {

using Clock = AckDeadlines::Clock;
using std::chrono::milliseconds;

const Clock::time_point t0{};

TEST(AckDeadlines, OneTimerForManyEmits) {
  AckDeadlines d;
  EXPECT_TRUE(d.add(0, t0 + milliseconds(100)));  // arm
  for (std::uint32_t id = 1; id < 1000; ++id) {
    EXPECT_FALSE(d.add(id, t0 + milliseconds(100 + id)));  // same timeout: no new timer
  }
  EXPECT_EQ(d.size(), 1000U);
  EXPECT_EQ(d.next(), t0 + milliseconds(100));
}

TEST(AckDeadlines, ExpiresWhatIsDueInOrder) {
  AckDeadlines d;
  d.add(1, t0 + milliseconds(10));
  d.add(2, t0 + milliseconds(20));
  d.add(3, t0 + milliseconds(30));
  EXPECT_EQ(d.expire(t0 + milliseconds(5)), std::vector<std::uint32_t>{});
  EXPECT_FALSE(d.armed());
  EXPECT_EQ(d.expire(t0 + milliseconds(20)), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(d.next(), t0 + milliseconds(30));
  EXPECT_EQ(d.expire(t0 + milliseconds(100)), std::vector<std::uint32_t>{3});
  EXPECT_FALSE(d.next().has_value());
}

TEST(AckDeadlines, AShorterTimeoutIsInsertedInPlaceAndRearms) {
  AckDeadlines d;
  EXPECT_TRUE(d.add(1, t0 + milliseconds(30000)));
  EXPECT_TRUE(d.add(2, t0 + milliseconds(5000)));  // earlier than the armed timer
  EXPECT_FALSE(d.add(3, t0 + milliseconds(20000)));
  EXPECT_EQ(d.expire(t0 + milliseconds(25000)), (std::vector<std::uint32_t>{2, 3}));
  EXPECT_EQ(d.next(), t0 + milliseconds(30000));
  d.rearm(*d.next());
  EXPECT_TRUE(d.armed());
  EXPECT_FALSE(d.add(4, t0 + milliseconds(31000)));
}

TEST(AckDeadlines, AnsweredAcksArePrunedFromTheFront) {
  AckDeadlines d;
  for (std::uint32_t id = 0; id < 10; ++id) d.add(id, t0 + milliseconds(100 + id));
  std::set<std::uint32_t> pending{3, 5, 9};
  d.prune([&](std::uint32_t id) { return pending.count(id) > 0; });
  EXPECT_EQ(d.size(), 7U);  // 0, 1, 2 answered; 4, 6, 7, 8 wait behind 3
  EXPECT_EQ(d.next(), t0 + milliseconds(103));
  pending.clear();
  d.prune([&](std::uint32_t id) { return pending.count(id) > 0; });
  EXPECT_EQ(d.size(), 0U);
}

TEST(AckDeadlines, ClearForgetsEverything) {
  AckDeadlines d;
  d.add(1, t0 + milliseconds(1));
  d.clear();
  EXPECT_EQ(d.size(), 0U);
  EXPECT_FALSE(d.armed());
  EXPECT_TRUE(d.add(2, t0 + milliseconds(2)));
}

}  // namespace
}  // namespace parley::socketio
