#include "parley-bench/delivery_tally.hpp"

#include <gtest/gtest.h>

namespace parley::bench {
namespace {

SeqBits bits(std::initializer_list<std::uint64_t> seqs) {
  SeqBits b;
  for (auto s : seqs) b.set(s);
  return b;
}

TEST(BenchDeliveryTally, EveryAckedMessageAtEveryReceiverIsComplete) {
  const SeqBits acked = bits({0, 1, 2});
  const SeqBits a = bits({0, 1, 2});
  const SeqBits b = bits({2, 1, 0});
  const DeliveryTally t = tally_deliveries(3, acked, {&a, &b});
  EXPECT_EQ(t.missing, 0U);
  EXPECT_EQ(t.received_unacked, 0U);
}

TEST(BenchDeliveryTally, CountsEachMissingReceiverOfEachAckedMessage) {
  const SeqBits acked = bits({0, 1, 2, 3});
  const SeqBits a = bits({0, 2});
  const SeqBits b = bits({0, 1});
  const SeqBits c = bits({0, 1, 2});
  // 1 misses a; 2 misses b; 3 misses all three.
  EXPECT_EQ(tally_deliveries(4, acked, {&a, &b, &c}).missing, 5U);
  // Only what was sent counts.
  EXPECT_EQ(tally_deliveries(3, acked, {&a, &b, &c}).missing, 2U);
}

TEST(BenchDeliveryTally, ReceivedButNeverAckedOkCountsOncePerMessage) {
  const SeqBits acked = bits({0});
  const SeqBits a = bits({0, 1, 2});
  const SeqBits b = bits({0, 1});
  const DeliveryTally t = tally_deliveries(3, acked, {&a, &b});
  EXPECT_EQ(t.missing, 0U);
  EXPECT_EQ(t.received_unacked, 2U);
}

TEST(BenchDeliveryTally, NoReceiversMeansNothingCanBeMissing) {
  const SeqBits acked = bits({0, 1});
  EXPECT_EQ(tally_deliveries(2, acked, {}).missing, 0U);
}

TEST(BenchDeliveryTally, TalliesAdd) {
  DeliveryTally all{1, 2};
  all += DeliveryTally{3, 4};
  EXPECT_EQ(all.missing, 4U);
  EXPECT_EQ(all.received_unacked, 6U);
}

}  // namespace
}  // namespace parley::bench
