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

using Clock = DeviceFeed::Clock;
const Clock::time_point t0{};

// live() at t0, answered as ids.
std::vector<std::string> live(DeviceFeed& feed, const OutgoingPtr& item,
                              Clock::time_point at = t0) {
  return ids(feed.live(item, at));
}

using Ids = std::vector<std::string>;

TEST(DeviceFeed, LiveMessagesWaitBehindTheReplay) {
  DeviceFeed feed;
  EXPECT_TRUE(feed.replaying());
  EXPECT_EQ(live(feed, msg("a", 3)), Ids{});
  EXPECT_EQ(feed.held(), 1U);
  const auto out = feed.last_page({msg("a", 1), msg("a", 2)});
  EXPECT_EQ(ids(out), (std::vector<std::string>{"a#1", "a#2", "a#3"}));
  EXPECT_FALSE(feed.replaying());
  EXPECT_EQ(live(feed, msg("a", 4)), Ids{"a#4"});
}

TEST(DeviceFeed, TheLastPageMergesInSeqOrderPerConversationEachOnce) {
  DeviceFeed feed;
  live(feed, msg("b", 2));
  live(feed, msg("a", 3));
  live(feed, msg("a", 2));  // also in the page: once
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
  live(feed, msg("a", 2));  // committed just before the connect: both ways
  live(feed, msg("a", 3));
  EXPECT_EQ(ids(feed.last_page({})), (std::vector<std::string>{"a#3"}));
}

TEST(DeviceFeed, AfterTheReplayALiveMessageIsDroppedOnlyWhenItWasSent) {
  DeviceFeed feed;
  feed.last_page({msg("a", 5)});
  EXPECT_EQ(live(feed, msg("a", 5)), Ids{});
  EXPECT_EQ(live(feed, msg("a", 6)), Ids{"a#6"});
  EXPECT_EQ(live(feed, msg("b", 1)), Ids{"b#1"});
  EXPECT_EQ(live(feed, msg("b", 1)), Ids{});
}

// Several nodes writing one conversation: a message can reach this node
// after a later one. The later one waits for it, then both go in order.
TEST(DeviceFeed, AMessageWithAGapBelowItWaitsForTheMissingOnes) {
  DeviceFeed feed;
  feed.last_page({});
  EXPECT_EQ(live(feed, msg("a", 3)), Ids{"a#3"}) << "the first here: nothing to wait for";
  EXPECT_EQ(live(feed, msg("a", 6)), Ids{});
  EXPECT_EQ(live(feed, msg("a", 5)), Ids{});
  EXPECT_EQ(live(feed, msg("b", 1)), Ids{"b#1"}) << "other conversations do not wait";
  EXPECT_TRUE(feed.next_due().has_value());
  EXPECT_EQ(live(feed, msg("a", 4)), (Ids{"a#4", "a#5", "a#6"}));
  EXPECT_FALSE(feed.next_due().has_value());
  EXPECT_EQ(live(feed, msg("a", 5)), Ids{}) << "sent once";
}

TEST(DeviceFeed, TheDevicesOwnMessagesLeaveNoGap) {
  DeviceFeed feed;
  feed.last_page({msg("a", 1)});
  EXPECT_EQ(live(feed, msg("a", 3)), Ids{}) << "2 is this device's own, not stored yet here";
  EXPECT_EQ(ids(feed.own("a", 2)), Ids{"a#3"});
  EXPECT_TRUE(ids(feed.own("a", 4)).empty());
  EXPECT_EQ(live(feed, msg("a", 5)), Ids{"a#5"});
}

// The replay sends what is pending for the user: never their own messages
// (sent from another device), which leave holes in its seqs. Those are no
// gap; and a message of this device's own does not let a later one jump a
// real gap.
TEST(DeviceFeed, TheReplaysHolesAreNoGapButAnOwnMessageDoesNotCloseARealOne) {
  DeviceFeed feed;
  feed.page({msg("a", 5)});
  EXPECT_EQ(ids(feed.last_page({msg("a", 7)})), Ids{"a#7"});
  EXPECT_EQ(live(feed, msg("a", 8)), Ids{"a#8"});
  EXPECT_EQ(live(feed, msg("a", 11)), Ids{}) << "9 and 10 not here yet";
  EXPECT_TRUE(ids(feed.own("a", 10)).empty()) << "9 is still missing";
  EXPECT_EQ(live(feed, msg("a", 9)), (Ids{"a#9", "a#11"}));
}

// The missing message's publication was lost (Redis restarted): the wait
// runs out and a replay from the store brings it, in order.
TEST(DeviceFeed, AWaitThatRunsOutStartsAReplayThatFillsTheGapInOrder) {
  const auto wait = std::chrono::milliseconds(100);
  DeviceFeed feed(DeviceFeed::kDefaultMaxHeld, wait);
  feed.last_page({msg("a", 1)});
  EXPECT_EQ(live(feed, msg("a", 4), t0), Ids{});
  EXPECT_EQ(live(feed, msg("a", 3), t0 + wait / 2), Ids{});
  ASSERT_TRUE(feed.next_due().has_value());
  EXPECT_EQ(*feed.next_due(), t0 + wait) << "from the oldest wait";
  EXPECT_FALSE(feed.resync_due(t0 + wait / 2));
  EXPECT_FALSE(feed.replaying());
  EXPECT_TRUE(feed.resync_due(t0 + wait));
  EXPECT_TRUE(feed.replaying());
  EXPECT_FALSE(feed.next_page_after().has_value()) << "from the oldest pending";
  EXPECT_FALSE(feed.next_due().has_value());
  EXPECT_EQ(live(feed, msg("a", 5), t0 + wait), Ids{}) << "held behind the replay";
  // Pending: 2, and 3 and 4 (not acked yet); 1 was acked.
  EXPECT_EQ(ids(feed.last_page({msg("a", 2), msg("a", 3), msg("a", 4)})),
            (Ids{"a#2", "a#3", "a#4", "a#5"}));
  EXPECT_EQ(live(feed, msg("a", 2), t0 + wait * 2), Ids{}) << "sent once";
  EXPECT_EQ(live(feed, msg("a", 6), t0 + wait * 2), Ids{"a#6"});
}

// Not pending (another device of the user acked it): the replay cannot
// bring it; what waited goes, and the message if it arrives later.
TEST(DeviceFeed, AGapTheReplayCannotFillIsLeftBehind) {
  const auto wait = std::chrono::milliseconds(100);
  DeviceFeed feed(DeviceFeed::kDefaultMaxHeld, wait);
  feed.last_page({msg("a", 1)});
  EXPECT_EQ(live(feed, msg("a", 3), t0), Ids{});
  EXPECT_TRUE(feed.resync_due(t0 + wait));
  EXPECT_EQ(ids(feed.last_page({})), Ids{"a#3"});
  EXPECT_EQ(live(feed, msg("a", 4), t0 + wait), Ids{"a#4"}) << "no second wait for 2";
  EXPECT_EQ(live(feed, msg("a", 2), t0 + wait), Ids{"a#2"}) << "late, but sent";
  EXPECT_EQ(live(feed, msg("a", 2), t0 + wait), Ids{});
}

TEST(DeviceFeed, WithoutAReorderWaitEverythingGoesAtOnce) {
  DeviceFeed feed(DeviceFeed::kDefaultMaxHeld, std::chrono::milliseconds(0));
  feed.last_page({msg("a", 1)});
  EXPECT_EQ(live(feed, msg("a", 3)), Ids{"a#3"});
  EXPECT_EQ(live(feed, msg("a", 2)), Ids{"a#2"});
  EXPECT_EQ(live(feed, msg("a", 3)), Ids{});
}

TEST(DeviceFeed, TheWaitIsBounded) {
  DeviceFeed feed;
  feed.last_page({msg("a", 1)});
  for (std::size_t i = 0; i < DeviceFeed::kMaxWaiting; ++i) {
    EXPECT_EQ(live(feed, msg("a", static_cast<std::int64_t>(3 + i))), Ids{});
  }
  const auto all = feed.live(msg("a", static_cast<std::int64_t>(3 + DeviceFeed::kMaxWaiting)), t0);
  EXPECT_EQ(all.size(), DeviceFeed::kMaxWaiting + 1);
  EXPECT_EQ(all.front()->message.seq, 3);
  EXPECT_FALSE(feed.next_due().has_value());
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
  live(feed, msg("a", 1));
  live(feed, msg("a", 2));
  live(feed, msg("a", 3));  // dropped: pending in the store, a later page brings it
  EXPECT_EQ(feed.held(), 2U);
  EXPECT_EQ(ids(feed.last_page({})), (std::vector<std::string>{"a#1", "a#2"}));
}

TEST(DeviceFeed, AFailedReplayStillSendsWhatWasHeld) {
  DeviceFeed feed;
  live(feed, msg("a", 7));
  EXPECT_EQ(ids(feed.last_page({})), (std::vector<std::string>{"a#7"}));
}

}  // namespace
}  // namespace parley::chat
