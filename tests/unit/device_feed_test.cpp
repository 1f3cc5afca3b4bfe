#include "chat/device_feed.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace parley::chat {
namespace {

OutgoingPtr msg(const std::string& conv, std::int64_t seq, core::EpochMs at = 0) {
  store::Message m;
  m.id = conv + "#" + std::to_string(seq);
  m.conversation_id = conv;
  m.seq = seq;
  m.created_at = at == 0 ? seq : at;
  return std::make_shared<const Outgoing>(Outgoing{std::move(m), "event"});
}

std::vector<std::string> ids(const std::vector<OutgoingPtr>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i->message.id);
  return out;
}

TEST(DeviceFeed, LiveMessagesWaitBehindTheReplay) {
  DeviceFeed feed;
  EXPECT_TRUE(feed.replaying());
  EXPECT_FALSE(feed.live(msg("a", 3)));
  EXPECT_EQ(feed.held(), 1U);
  const auto out = feed.last_page({msg("a", 1), msg("a", 2)});
  EXPECT_EQ(ids(out), (std::vector<std::string>{"a#1", "a#2", "a#3"}));
  EXPECT_FALSE(feed.replaying());
  EXPECT_TRUE(feed.live(msg("a", 4)));
}

TEST(DeviceFeed, TheLastPageMergesInSeqOrderPerConversationEachOnce) {
  DeviceFeed feed;
  feed.live(msg("b", 2));
  feed.live(msg("a", 3));
  feed.live(msg("a", 2));  // also in the page: once
  const auto out = feed.last_page({msg("a", 2), msg("b", 1)});
  EXPECT_EQ(ids(out), (std::vector<std::string>{"a#2", "a#3", "b#1", "b#2"}));
}

TEST(DeviceFeed, AFullPageMovesTheCursorAndWhatItSentIsNotSentAgain) {
  DeviceFeed feed;
  EXPECT_FALSE(feed.next_page_after().has_value());
  feed.page({msg("a", 1, 10), msg("b", 1, 11), msg("a", 2, 12)});
  ASSERT_TRUE(feed.next_page_after().has_value());
  EXPECT_EQ(feed.next_page_after()->conversation_id, "a");
  EXPECT_EQ(feed.next_page_after()->seq, 2);
  EXPECT_EQ(feed.next_page_after()->created_at, 12);
  feed.live(msg("a", 2));  // committed just before the connect: both ways
  feed.live(msg("a", 3));
  EXPECT_EQ(ids(feed.last_page({})), (std::vector<std::string>{"a#3"}));
}

TEST(DeviceFeed, AfterTheReplayALiveMessageIsDroppedOnlyWhenItWasSent) {
  DeviceFeed feed;
  feed.last_page({msg("a", 5)});
  EXPECT_FALSE(feed.live(msg("a", 5)));
  EXPECT_TRUE(feed.live(msg("a", 6)));
  EXPECT_TRUE(feed.live(msg("b", 1)));
  EXPECT_FALSE(feed.live(msg("b", 1)));
}

// Several nodes writing one conversation: a message can reach this node
// after a later one. It is sent late, once; never dropped.
TEST(DeviceFeed, AMessageArrivingAfterALaterOneIsSentLateOnce) {
  DeviceFeed feed;
  feed.last_page({});
  EXPECT_TRUE(feed.live(msg("a", 3)));
  EXPECT_TRUE(feed.live(msg("a", 5)));
  EXPECT_TRUE(feed.live(msg("a", 4)));
  EXPECT_TRUE(feed.live(msg("a", 1)));
  EXPECT_FALSE(feed.live(msg("a", 4)));
  EXPECT_FALSE(feed.live(msg("a", 3)));
  EXPECT_TRUE(feed.live(msg("a", 2)));
  EXPECT_FALSE(feed.live(msg("a", 1)));
  EXPECT_FALSE(feed.live(msg("a", 5)));
}

TEST(DeviceFeed, SentSeqsRemembersAWindowBelowTheHighest) {
  constexpr auto kWindow = static_cast<std::int64_t>(SentSeqs::kSeqWindow);
  SentSeqs sent;
  EXPECT_TRUE(sent.mark(10));
  EXPECT_TRUE(sent.mark(10 + kWindow));  // 10 is now the window's last slot
  EXPECT_FALSE(sent.mark(10));
  EXPECT_TRUE(sent.mark(11));
  EXPECT_FALSE(sent.mark(11));
  EXPECT_TRUE(sent.mark(10 + 3 * kWindow));  // a jump past the window forgets it
  EXPECT_FALSE(sent.mark(10 + kWindow)) << "behind the window: left to history";
  EXPECT_TRUE(sent.mark(10 + 3 * kWindow - 1));
  EXPECT_FALSE(sent.mark(10 + 3 * kWindow - 1));
}

TEST(DeviceFeed, TheHoldIsBounded) {
  DeviceFeed feed(2);
  feed.live(msg("a", 1));
  feed.live(msg("a", 2));
  feed.live(msg("a", 3));  // dropped: pending in the store, a later page brings it
  EXPECT_EQ(feed.held(), 2U);
  EXPECT_EQ(ids(feed.last_page({})), (std::vector<std::string>{"a#1", "a#2"}));
}

TEST(DeviceFeed, AFailedReplayStillSendsWhatWasHeld) {
  DeviceFeed feed;
  feed.live(msg("a", 7));
  EXPECT_EQ(ids(feed.last_page({})), (std::vector<std::string>{"a#7"}));
}

}  // namespace
}  // namespace parley::chat
