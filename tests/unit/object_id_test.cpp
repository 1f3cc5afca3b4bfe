#include "core/object_id.hpp"

#include <set>

#include <gtest/gtest.h>

namespace parley::core {
namespace {

TEST(ObjectId, IsTwentyFourLowercaseHex) {
  const std::string id = new_object_id();
  EXPECT_EQ(id.size(), 24U);
  EXPECT_TRUE(is_object_id(id));
}

TEST(ObjectId, UniqueAndIncreasingWithinASecond) {
  std::set<std::string> seen;
  std::string prev;
  int compared = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_object_id();
    EXPECT_TRUE(seen.insert(id).second);
    // Same second and process: the counter makes them increase (until it
    // wraps at 2^24, which 1000 ids from a random start rarely cross).
    if (!prev.empty() && prev.substr(0, 8) == id.substr(0, 8) && id.substr(18) != "000000") {
      EXPECT_LT(prev, id);
      ++compared;
    }
    prev = id;
  }
  // Only a change of second (one pair per change, however long the stall)
  // and the counter's wrap skip a pair: nearly all of the 999 are compared.
  EXPECT_GE(compared, 900);
}

TEST(ObjectId, RejectsOtherShapes) {
  EXPECT_FALSE(is_object_id(""));
  EXPECT_FALSE(is_object_id("0123456789abcdef0123456"));    // 23
  EXPECT_FALSE(is_object_id("0123456789abcdef012345678"));  // 25
  EXPECT_FALSE(is_object_id("0123456789ABCDEF01234567"));   // upper case
  EXPECT_FALSE(is_object_id("0123456789abcdef0123456g"));
  EXPECT_TRUE(is_object_id("0123456789abcdef01234567"));
}

}  // namespace
}  // namespace parley::core
