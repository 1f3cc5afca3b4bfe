#include "parley-bench/inbox.hpp"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace parley::bench {
namespace {

const std::string kAlice = "aaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kBob = "bbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kCarol = "cccccccccccccccccccccccc";

// The `message` of a message:received, as the server writes it (members in
// its order, with others around the three the inbox reads).
std::string message(std::string_view id, std::string_view from, std::string_view temp_id) {
  return fmt::format(
      R"({{"_id":"{}","conversationId":"dddddddddddddddddddddddd","from":"{}","to":null,)"
      R"("text":"a \"quoted\" tempId:1.2","seq":7,"tempId":"{}","deliveredCount":0}})",
      id, from, temp_id);
}

std::string id(unsigned n) {
  return fmt::format("65f0a1b2c3d4e5f6{:08x}", n);
}

TEST(BenchInbox, RecordsEachSendersSequenceNumbersApart) {
  Inbox inbox({kCarol, kAlice, kBob});  // not sorted: indexes stay as given
  auto a = inbox.accept(message(id(1), kAlice, "0.1000"));
  EXPECT_EQ(a.verdict, Inbox::Verdict::first);
  EXPECT_EQ(a.sent_ns, 1000U);
  EXPECT_EQ(inbox.accept(message(id(2), kBob, "0.2000")).verdict, Inbox::Verdict::first);
  EXPECT_EQ(inbox.accept(message(id(3), kBob, "5.3000")).verdict, Inbox::Verdict::first);

  EXPECT_TRUE(inbox.received_from(1).test(0));
  EXPECT_FALSE(inbox.received_from(1).test(5));
  EXPECT_TRUE(inbox.received_from(2).test(0));
  EXPECT_TRUE(inbox.received_from(2).test(5));
  EXPECT_FALSE(inbox.received_from(0).test(0));
}

TEST(BenchInbox, SameIdTwiceIsADuplicateAndRecordsNothingMore) {
  Inbox inbox({kAlice});
  EXPECT_EQ(inbox.accept(message(id(1), kAlice, "3.10")).verdict, Inbox::Verdict::first);
  const auto again = inbox.accept(message(id(1), kAlice, "3.10"));
  EXPECT_EQ(again.verdict, Inbox::Verdict::duplicate_id);
}

TEST(BenchInbox, OneTempIdUnderTwoIdsWasStoredTwice) {
  Inbox inbox({kAlice});
  EXPECT_EQ(inbox.accept(message(id(1), kAlice, "3.10")).verdict, Inbox::Verdict::first);
  EXPECT_EQ(inbox.accept(message(id(2), kAlice, "3.10")).verdict, Inbox::Verdict::seq_twice);
}

TEST(BenchInbox, UnexpectedSendersAndMalformedMessages) {
  Inbox inbox({kAlice, kBob}, 1);  // the receiver is Bob
  EXPECT_EQ(inbox.accept(message(id(1), kCarol, "0.1")).verdict, Inbox::Verdict::unexpected);
  EXPECT_EQ(inbox.accept(message(id(2), kBob, "0.1")).verdict, Inbox::Verdict::unexpected)
      << "the server does not echo a send to the socket that made it";
  EXPECT_EQ(inbox.accept(message(id(3), kAlice, "0")).verdict, Inbox::Verdict::unexpected);
  EXPECT_EQ(inbox.accept(message(id(4), kAlice, "x.1")).verdict, Inbox::Verdict::unexpected);
  EXPECT_EQ(inbox.accept(message("not-an-id", kAlice, "0.1")).verdict, Inbox::Verdict::unexpected);
  EXPECT_EQ(inbox.accept(R"({"_id":)").verdict, Inbox::Verdict::unexpected);
  EXPECT_EQ(inbox.accept(message(id(5), kAlice.substr(1), "0.1")).verdict,
            Inbox::Verdict::unexpected);
  EXPECT_FALSE(inbox.received_from(0).test(0));
  EXPECT_EQ(inbox.accept(message(id(6), kAlice, "0.1")).verdict, Inbox::Verdict::first);
}

}  // namespace
}  // namespace parley::bench
