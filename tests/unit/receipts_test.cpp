#include "store/receipts.hpp"

#include <map>
#include <tuple>

#include <gtest/gtest.h>

namespace parley::store {
namespace {

Message msg(std::int64_t seq, const std::string& from) {
  Message m;
  m.id = "m" + std::to_string(seq);
  m.conversation_id = "c";
  m.seq = seq;
  m.from = from;
  return m;
}

// Marks per (user, kind), ascending; records what was asked for.
struct Marks {
  std::map<std::pair<std::string, ReceiptKind>, std::vector<ReceiptMark>> marks;
  std::vector<std::tuple<std::string, ReceiptKind, std::int64_t, std::int64_t>> asked;
  MarkReader reader() {
    return [this](const std::string& user, ReceiptKind kind, std::int64_t lo,
                  std::int64_t hi) -> core::Result<std::vector<ReceiptMark>> {
      asked.emplace_back(user, kind, lo, hi);
      std::vector<ReceiptMark> out;
      for (const auto& m : marks[{user, kind}]) {
        if (m.up_to_seq >= lo) out.push_back(m);
      }
      return out;
    };
  }
};

TEST(Receipts, ADirectMessageIsDeliveredAndReadWhenItsRecipientIs) {
  const std::vector<MemberCursors> members{{"a", 0, 5, 3}, {"b", 0, 9, 9}};
  std::vector<Message> msgs{msg(3, "b"), msg(4, "b"), msg(6, "b"), msg(7, "a")};
  Marks marks;
  marks.marks[{"a", ReceiptKind::delivered}] = {{2, 100}, {5, 200}};
  marks.marks[{"a", ReceiptKind::read}] = {{3, 150}};
  ASSERT_TRUE(derive_receipts(ConversationType::direct, members, msgs, marks.reader()));
  EXPECT_EQ(msgs[0].to, "a");
  EXPECT_EQ(msgs[3].to, "b");
  EXPECT_FALSE(msgs[0].in_group);
  EXPECT_EQ(msgs[0].delivered_at, 200);  // the first mark covering seq 3
  EXPECT_EQ(msgs[0].read_at, 150);
  EXPECT_EQ(msgs[1].delivered_at, 200);
  EXPECT_FALSE(msgs[1].read_at.has_value());
  EXPECT_FALSE(msgs[2].delivered_at.has_value());  // a's cursor is at 5
  EXPECT_EQ(msgs[3].delivered_at, std::nullopt);   // b has no marks: not claimed
}

TEST(Receipts, AGroupMessageCountsTheOtherMembersWhoJoinedBeforeItAndNeedsThemAll) {
  // b joined at 0, c at 4 (after message 4), d at 0.
  const std::vector<MemberCursors> members{
      {"a", 0, 10, 10}, {"b", 0, 6, 5}, {"c", 4, 6, 4}, {"d", 0, 5, 5}};
  std::vector<Message> msgs{msg(4, "a"), msg(5, "a"), msg(6, "b")};
  Marks marks;
  marks.marks[{"b", ReceiptKind::delivered}] = {{4, 10}, {6, 40}};
  marks.marks[{"d", ReceiptKind::delivered}] = {{5, 30}};
  marks.marks[{"c", ReceiptKind::delivered}] = {{6, 50}};
  marks.marks[{"b", ReceiptKind::read}] = {{5, 35}};
  marks.marks[{"d", ReceiptKind::read}] = {{5, 36}};
  marks.marks[{"a", ReceiptKind::delivered}] = {{10, 90}};
  ASSERT_TRUE(derive_receipts(ConversationType::group, members, msgs, marks.reader()));
  for (const auto& m : msgs) {
    EXPECT_TRUE(m.in_group);
    EXPECT_TRUE(m.to.empty());
  }
  // Message 4 (a): counts b and d (c joined at 4). Both delivered: at the
  // later of their first covering marks; read by b and d.
  EXPECT_EQ(msgs[0].delivered_count, 2);
  EXPECT_EQ(msgs[0].delivered_at, 30);
  EXPECT_EQ(msgs[0].read_count, 2);
  EXPECT_EQ(msgs[0].read_at, 36);
  // Message 5 (a): counts b, c, d; all delivered (c at 50), read by b and d
  // only.
  EXPECT_EQ(msgs[1].delivered_count, 3);
  EXPECT_EQ(msgs[1].delivered_at, 50);
  EXPECT_EQ(msgs[1].read_count, 2);
  EXPECT_FALSE(msgs[1].read_at.has_value());
  // Message 6 (b): counts a, c, d; d's cursor is at 5: not all.
  EXPECT_EQ(msgs[2].delivered_count, 2);
  EXPECT_FALSE(msgs[2].delivered_at.has_value());
  EXPECT_EQ(msgs[2].read_count, 1);
}

TEST(Receipts, MarksAreReadOnlyForMessagesEveryoneHas) {
  const std::vector<MemberCursors> members{{"a", 0, 0, 0}, {"b", 0, 1, 0}, {"c", 0, 0, 0}};
  std::vector<Message> msgs{msg(1, "a")};
  Marks marks;
  ASSERT_TRUE(derive_receipts(ConversationType::group, members, msgs, marks.reader()));
  EXPECT_EQ(msgs[0].delivered_count, 1);
  EXPECT_TRUE(marks.asked.empty()) << "c has not got it: no time to look up";
}

TEST(Receipts, AMessageThatCountsForNobodyIsNeverDeliveredOrRead) {
  // The sender alone, and a member who joined after the message.
  const std::vector<MemberCursors> members{{"a", 0, 9, 9}, {"b", 3, 9, 9}};
  std::vector<Message> msgs{msg(2, "a")};
  Marks marks;
  ASSERT_TRUE(derive_receipts(ConversationType::group, members, msgs, marks.reader()));
  EXPECT_EQ(msgs[0].delivered_count, 0);
  EXPECT_EQ(msgs[0].read_count, 0);
  EXPECT_FALSE(msgs[0].delivered_at.has_value());
  EXPECT_FALSE(msgs[0].read_at.has_value());
}

TEST(Receipts, AMarkReaderFailureIsTheResult) {
  const std::vector<MemberCursors> members{{"a", 0, 9, 9}, {"b", 0, 9, 9}};
  std::vector<Message> msgs{msg(2, "a")};
  const MarkReader failing = [](const std::string&, ReceiptKind, std::int64_t,
                                std::int64_t) -> core::Result<std::vector<ReceiptMark>> {
    return core::fail(core::Error::internal("io"));
  };
  const auto r = derive_receipts(ConversationType::direct, members, msgs, failing);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::internal);
}

}  // namespace
}  // namespace parley::store
