#include "chat/delivered_cursors.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace parley::chat {
namespace {

store::Message msg(const std::string& conv, const std::string& to, std::int64_t seq) {
  store::Message m;
  m.id = conv + "#" + std::to_string(seq);
  m.conversation_id = conv;
  m.seq = seq;
  m.from = "sender-of-" + conv;
  m.to = to;
  return m;
}

TEST(DeliveredCursors, AGroupMessageAdvancesEachMemberWhoAckedAndItsReceiptsNameThem) {
  DeliveredCursors c;
  store::Message m = msg("g", "", 4);
  m.in_group = true;
  c.add(m, "u");
  c.add(m, "v");
  c.add(m, "u");  // u's second device
  auto batch = c.take();
  ASSERT_EQ(batch.size(), 2U);
  std::sort(batch.begin(), batch.end(),
            [](const auto& a, const auto& b) { return a.user_id < b.user_id; });
  EXPECT_EQ(batch[0].user_id, "u");
  EXPECT_EQ(batch[1].user_id, "v");
  const auto receipts = DeliveredCursors::receipts(batch[0], 0, 77);
  ASSERT_EQ(receipts.size(), 1U);  // once per member, not per device
  EXPECT_EQ(receipts[0].user_id, "u");
  EXPECT_TRUE(receipts[0].in_group);
  EXPECT_EQ(receipts[0].sender_id, "sender-of-g");
}

TEST(DeliveredCursors, TheFirstAckFlushesAtOnce) {
  DeliveredCursors c;
  EXPECT_TRUE(c.add(msg("a", "u", 1), "u"));
  const auto batch = c.take();
  ASSERT_EQ(batch.size(), 1U);
  EXPECT_EQ(batch[0].conversation_id, "a");
  EXPECT_EQ(batch[0].user_id, "u");
  EXPECT_EQ(batch[0].up_to_seq, 1);
  EXPECT_TRUE(c.flushing());
  EXPECT_FALSE(c.finished());  // nothing waits
  EXPECT_FALSE(c.flushing());
}

TEST(DeliveredCursors, AcksDuringAFlushBecomeOneAdvancePerConversationAndRecipient) {
  DeliveredCursors c;
  ASSERT_TRUE(c.add(msg("a", "u", 1), "u"));
  ASSERT_EQ(c.take().size(), 1U);
  // 1,000 acks while the write is in flight: none flushes.
  for (int i = 2; i <= 501; ++i) EXPECT_FALSE(c.add(msg("a", "u", i), "u"));
  for (int i = 1; i <= 500; ++i) EXPECT_FALSE(c.add(msg("b", "v", i), "v"));
  EXPECT_EQ(c.acks_waiting(), 1000U);
  EXPECT_TRUE(c.take().empty());  // one flush at a time
  EXPECT_TRUE(c.finished());      // the flush is done and acks wait: flush again
  auto batch = c.take();
  ASSERT_EQ(batch.size(), 2U);
  for (const auto& a : batch) {
    EXPECT_EQ(a.up_to_seq, a.conversation_id == "a" ? 501 : 500);
    EXPECT_EQ(a.acked.size(), 500U);
  }
  EXPECT_EQ(c.acks_waiting(), 0U);
  EXPECT_FALSE(c.finished());  // one of the two advances written
  EXPECT_TRUE(c.flushing());
  EXPECT_FALSE(c.finished());  // the last, and nothing waits
  EXPECT_FALSE(c.flushing());
}

TEST(DeliveredCursors, ReceiptsForWhatTheAdvanceMovedPastEachOnce) {
  DeliveredCursors c;
  c.add(msg("a", "u", 3), "u");
  c.add(msg("a", "u", 5), "u");
  c.add(msg("a", "u", 4), "u");
  c.add(msg("a", "u", 5), "u");  // a second device acks the same message
  c.add(msg("a", "u", 2), "u");  // delivered before
  const auto batch = c.take();
  ASSERT_EQ(batch.size(), 1U);
  EXPECT_EQ(batch[0].up_to_seq, 5);
  const auto receipts = DeliveredCursors::receipts(batch[0], 3, 1234);
  ASSERT_EQ(receipts.size(), 2U);
  EXPECT_EQ(receipts[0].message_id, "a#5");
  EXPECT_EQ(receipts[1].message_id, "a#4");
  for (const auto& r : receipts) {
    EXPECT_EQ(r.conversation_id, "a");
    EXPECT_EQ(r.sender_id, "sender-of-a");
    EXPECT_EQ(r.at, 1234);
  }
  EXPECT_TRUE(DeliveredCursors::receipts(batch[0], 5, 1).empty());  // nothing moved
}

}  // namespace
}  // namespace parley::chat
