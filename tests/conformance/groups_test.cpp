// Conformance: group conversations (contract v1.1): creation, members in
// join order, sends to the members at commit, owner-only additions within
// the limit, removals and the owner's hand-over, access ending at removal,
// and the receipt counts derived from the members' cursors.
#include <algorithm>
#include <string>
#include <vector>

#include "core/object_id.hpp"
#include "store_conformance.hpp"

namespace parley::store::conformance {
namespace {

using Ids = std::vector<std::string>;
using Audience = std::vector<std::pair<std::string, std::int64_t>>;

// Four users; a's group "G" with c and b (in that order), d a stranger.
class GroupTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    a_ = client_.create_ok("A", "ga@example.com");
    b_ = client_.create_ok("B", "gb@example.com");
    c_ = client_.create_ok("C", "gc@example.com");
    d_ = client_.create_ok("D", "gd@example.com");
    auto created = client_.create_group(a_.id, "G", {c_.id, b_.id});
    ASSERT_TRUE(created.has_value()) << created.error().detail;
    created_ = *created;
    g_ = created_.conversation.id;
  }

  Message send_ok(const User& from, const std::string& text = "hi") {
    auto r = client_.send_to(from.id, g_, text);
    EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
    return r ? r->message : Message{};
  }

  std::vector<Message> history(const User& caller) {
    auto r = client_.history(HistoryQuery{caller.id, g_, 50, 0, std::nullopt, std::nullopt});
    EXPECT_TRUE(r.has_value() && r->has_value());
    return r && *r ? (*r)->messages : std::vector<Message>{};
  }

  std::optional<ConversationSummary> seen_by(const User& u) {
    auto r = client_.conversation(u.id, g_);
    EXPECT_TRUE(r.has_value());
    return r ? *r : std::nullopt;
  }

  User a_, b_, c_, d_;
  GroupUpdate created_;
  std::string g_;
};

TEST_P(GroupTest, ACreatedGroupHasItsOwnerFirstThenItsMembersInTheOrderGiven) {
  const ConversationSummary& c = created_.conversation;
  EXPECT_EQ(c.type, ConversationType::group);
  EXPECT_EQ(c.name, "G");
  EXPECT_EQ(c.owner_id, a_.id);
  EXPECT_EQ(c.participants, (Ids{a_.id, c_.id, b_.id}));
  EXPECT_EQ(c.created_at, 5000);
  EXPECT_EQ(c.updated_at, 5000);
  EXPECT_FALSE(c.last_message.has_value());
  EXPECT_EQ(c.unread_count, 0);
  EXPECT_EQ(created_.audience, (Audience{{a_.id, 0}, {c_.id, 0}, {b_.id, 0}}));
  EXPECT_FALSE(created_.removed.has_value());
  EXPECT_TRUE(created_.changed);

  // Each member sees it so, in the list and alone; a stranger does not.
  for (const User* u : {&a_, &b_, &c_}) {
    const auto list = client_.conversations(u->id);
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(list[0].id, g_);
    EXPECT_EQ(list[0].type, ConversationType::group);
    EXPECT_EQ(list[0].name, "G");
    EXPECT_EQ(list[0].owner_id, a_.id);
    EXPECT_EQ(list[0].participants, c.participants);
    EXPECT_EQ(list[0].created_at, 5000);
    const auto one = seen_by(*u);
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->participants, c.participants);
    EXPECT_EQ(one->name, "G");
    const auto members = client_.members(u->id, g_);
    ASSERT_TRUE(members.has_value() && members->has_value());
    EXPECT_EQ(**members, c.participants);
  }
  EXPECT_FALSE(seen_by(d_).has_value());
  const auto of_d = client_.members(d_.id, g_);
  ASSERT_TRUE(of_d.has_value());
  EXPECT_FALSE(of_d->has_value());
  EXPECT_TRUE(client_.conversations(d_.id).empty());
}

TEST_P(GroupTest, AGroupWithAnUnknownMemberIsNotCreated) {
  const auto r = client_.create_group(a_.id, "X", {b_.id, core::new_object_id()});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::not_found);
  EXPECT_EQ(client_.conversations(b_.id).size(), 1U) << "only G";
}

TEST_P(GroupTest, ASendGoesToTheMembersAtItsCommitAndStrangersAreRefused) {
  const auto sent = client_.send_to(b_.id, g_, "hello", "t-1");
  ASSERT_TRUE(sent.has_value()) << sent.error().detail;
  EXPECT_FALSE(sent->duplicate);
  EXPECT_TRUE(sent->message.in_group);
  EXPECT_TRUE(sent->message.to.empty());
  EXPECT_EQ(sent->message.conversation_id, g_);
  EXPECT_EQ(sent->message.seq, 1);
  EXPECT_EQ(sent->message.from, b_.id);
  ASSERT_TRUE(sent->members);
  EXPECT_EQ(*sent->members, (Ids{a_.id, c_.id, b_.id}));

  // A retry returns the original and spends no seq.
  const auto retry = client_.send_to(b_.id, g_, "hello", "t-1");
  ASSERT_TRUE(retry.has_value());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->message.id, sent->message.id);
  EXPECT_TRUE(retry->message.in_group);
  EXPECT_EQ(send_ok(c_).seq, 2);

  for (const std::string& where : {g_, core::new_object_id()}) {
    const auto stranger = client_.send_to(d_.id, where, "let me in");
    ASSERT_FALSE(stranger.has_value());
    EXPECT_EQ(stranger.error().code, core::ErrorCode::not_found);
    EXPECT_EQ(stranger.error().message, "Conversation not found");
  }

  const auto msgs = history(a_);
  ASSERT_EQ(msgs.size(), 2U);
  EXPECT_TRUE(msgs[0].in_group);
  EXPECT_TRUE(msgs[0].to.empty());
  EXPECT_EQ(msgs[0].text, "hello");
  const auto none = client_.history(HistoryQuery{d_.id, g_, 50, 0, std::nullopt, std::nullopt});
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  // Unread: the other members' messages.
  const auto for_a = seen_by(a_);
  ASSERT_TRUE(for_a.has_value());
  EXPECT_EQ(for_a->unread_count, 2);
  ASSERT_TRUE(for_a->last_message.has_value());
  EXPECT_EQ(for_a->last_message->seq, 2);
  EXPECT_TRUE(for_a->last_message->in_group);
  EXPECT_EQ(for_a->updated_at, for_a->last_message->created_at);
  EXPECT_EQ(seen_by(b_)->unread_count, 1);
  EXPECT_EQ(client_.conversations(c_.id)[0].unread_count, 1);
}

TEST_P(GroupTest, OnlyTheOwnerAddsMembersWithinTheLimitAndTheyGetNothingFromBefore) {
  send_ok(b_, "before d");
  auto by_b = client_.add_members(b_.id, g_, {d_.id});
  ASSERT_FALSE(by_b.has_value());
  EXPECT_EQ(by_b.error().code, core::ErrorCode::forbidden);
  auto too_many = client_.add_members(a_.id, g_, {d_.id}, 3);  // the limit counts everyone
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().code, core::ErrorCode::validation_failed);
  auto unknown = client_.add_members(a_.id, g_, {d_.id, core::new_object_id()});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::not_found);
  EXPECT_EQ(**client_.members(a_.id, g_), (Ids{a_.id, c_.id, b_.id})) << "refusals add nobody";

  auto added = client_.add_members(a_.id, g_, {d_.id, b_.id, d_.id}, 4);
  ASSERT_TRUE(added.has_value() && added->has_value()) << (added ? "" : added.error().detail);
  EXPECT_TRUE((*added)->changed);
  EXPECT_EQ((*added)->conversation.participants, (Ids{a_.id, c_.id, b_.id, d_.id}));
  EXPECT_EQ((*added)->conversation.unread_count, 1);  // the caller's
  EXPECT_EQ((*added)->audience, (Audience{{a_.id, 1}, {c_.id, 1}, {b_.id, 0}, {d_.id, 0}}));
  EXPECT_FALSE((*added)->removed.has_value());

  // d joined after message 1: not pending, not unread, yet in the history.
  EXPECT_TRUE(client_.pending(d_.id, std::nullopt, 10).empty());
  EXPECT_EQ(seen_by(d_)->unread_count, 0);
  EXPECT_EQ(history(d_).size(), 1U);
  const auto pending_c = client_.pending(c_.id, std::nullopt, 10);
  ASSERT_EQ(pending_c.size(), 1U);
  EXPECT_TRUE(pending_c[0].in_group);
  EXPECT_TRUE(pending_c[0].to.empty());
  // Sent after the join: d's too.
  const Message after = send_ok(c_, "after d");
  const auto pending_d = client_.pending(d_.id, std::nullopt, 10);
  ASSERT_EQ(pending_d.size(), 1U);
  EXPECT_EQ(pending_d[0].id, after.id);

  auto again = client_.add_members(a_.id, g_, {d_.id, c_.id});
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_FALSE((*again)->changed) << "only existing members: no change";
  EXPECT_EQ((*again)->conversation.participants.size(), 4U);

  // A stranger changes nothing: not found (nullopt).
  const User e = client_.create_ok("E", "ge@example.com");
  auto by_stranger = client_.add_members(e.id, g_, {e.id});
  ASSERT_TRUE(by_stranger.has_value());
  EXPECT_FALSE(by_stranger->has_value());
}

TEST_P(GroupTest, RemovalsAreTheOwnersTheOwnerLeavingHandsOverAndAccessEnds) {
  auto b_removes_c = client_.remove_member(b_.id, g_, c_.id);
  ASSERT_FALSE(b_removes_c.has_value());
  EXPECT_EQ(b_removes_c.error().code, core::ErrorCode::forbidden);
  auto not_in = client_.remove_member(a_.id, g_, d_.id);
  ASSERT_FALSE(not_in.has_value());
  EXPECT_EQ(not_in.error().code, core::ErrorCode::not_found);
  ASSERT_TRUE(client_.add_members(a_.id, g_, {d_.id}).has_value());
  send_ok(d_, "from d");

  // The owner leaves: the next member in join order (c) owns the group.
  auto a_leaves = client_.remove_member(a_.id, g_, a_.id);
  ASSERT_TRUE(a_leaves.has_value() && a_leaves->has_value());
  const GroupUpdate& left = **a_leaves;
  EXPECT_EQ(left.conversation.owner_id, c_.id);
  EXPECT_EQ(left.conversation.participants, (Ids{c_.id, b_.id, d_.id}));
  EXPECT_EQ(left.removed, a_.id);
  EXPECT_EQ(left.conversation.unread_count, 0);
  EXPECT_EQ(left.audience, (Audience{{c_.id, 1}, {b_.id, 1}, {d_.id, 0}, {a_.id, 0}}));

  // a is out: no members, no sends, no history, not listed, nothing pending.
  const auto members_of_a = client_.members(a_.id, g_);
  ASSERT_TRUE(members_of_a.has_value());
  EXPECT_FALSE(members_of_a->has_value());
  const auto refused = client_.send_to(a_.id, g_, "still here?");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::ErrorCode::not_found);
  EXPECT_FALSE(seen_by(a_).has_value());
  EXPECT_TRUE(client_.conversations(a_.id).empty());
  EXPECT_TRUE(client_.pending(a_.id, std::nullopt, 10).empty());
  auto by_a = client_.remove_member(a_.id, g_, b_.id);
  ASSERT_TRUE(by_a.has_value());
  EXPECT_FALSE(by_a->has_value());

  const auto after = client_.send_to(c_.id, g_, "without a");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after->members, (Ids{c_.id, b_.id, d_.id}));
  EXPECT_EQ(after->message.seq, 2);

  // The new owner removes b; then the last members leave: the group stays,
  // with nobody in it.
  auto c_removes_b = client_.remove_member(c_.id, g_, b_.id);
  ASSERT_TRUE(c_removes_b.has_value() && c_removes_b->has_value());
  EXPECT_EQ((*c_removes_b)->conversation.owner_id, c_.id);
  EXPECT_EQ((*c_removes_b)->removed, b_.id);
  EXPECT_EQ((*c_removes_b)->audience.back(), (std::pair<std::string, std::int64_t>{b_.id, 0}));
  EXPECT_FALSE(client_.members(b_.id, g_)->has_value());
  auto c_leaves = client_.remove_member(c_.id, g_, c_.id);
  ASSERT_TRUE(c_leaves.has_value() && c_leaves->has_value());
  EXPECT_EQ((*c_leaves)->conversation.owner_id, d_.id);
  auto d_leaves = client_.remove_member(d_.id, g_, d_.id);
  ASSERT_TRUE(d_leaves.has_value() && d_leaves->has_value());
  EXPECT_TRUE((*d_leaves)->conversation.owner_id.empty());
  EXPECT_TRUE((*d_leaves)->conversation.participants.empty());
  EXPECT_EQ((*d_leaves)->audience, (Audience{{d_.id, 0}}));
  EXPECT_EQ((*d_leaves)->conversation.last_message->seq, 2);
}

TEST_P(GroupTest, AnyMemberRenamesAGroupButNotADirectConversation) {
  auto renamed = client_.rename(b_.id, g_, "Renamed");
  ASSERT_TRUE(renamed.has_value() && renamed->has_value());
  EXPECT_EQ((*renamed)->conversation.name, "Renamed");
  EXPECT_TRUE((*renamed)->changed);
  EXPECT_EQ((*renamed)->audience.size(), 3U);
  EXPECT_EQ(seen_by(c_)->name, "Renamed");

  auto by_stranger = client_.rename(d_.id, g_, "Mine");
  ASSERT_TRUE(by_stranger.has_value());
  EXPECT_FALSE(by_stranger->has_value());

  const Message direct = client_.send_ok(a_.id, b_.id, "just us");
  auto direct_rename = client_.rename(a_.id, direct.conversation_id, "Us");
  ASSERT_FALSE(direct_rename.has_value());
  EXPECT_EQ(direct_rename.error().code, core::ErrorCode::validation_failed);
  for (const auto& refused : {client_.add_members(a_.id, direct.conversation_id, {c_.id}),
                              client_.remove_member(a_.id, direct.conversation_id, b_.id)}) {
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, core::ErrorCode::validation_failed);
  }
  // A direct conversation by its id: as by the recipient's.
  const auto by_id = client_.send_to(b_.id, direct.conversation_id, "by id");
  ASSERT_TRUE(by_id.has_value()) << by_id.error().detail;
  EXPECT_EQ(by_id->message.to, a_.id);
  EXPECT_FALSE(by_id->message.in_group);
  EXPECT_FALSE(by_id->members);
  EXPECT_EQ(by_id->message.seq, 2);
}

TEST_P(GroupTest, CountsFollowTheCursorsOfTheMembersAMessageCountsFor) {
  const Message m1 = send_ok(a_, "1");
  const Message m2 = send_ok(a_, "2");
  const Message m3 = send_ok(b_, "3");
  // b has m1 and m2 delivered; c has m1 delivered later.
  EXPECT_EQ(client_.delivered(g_, b_.id, 2, 6000), 0);
  auto msgs = history(a_);
  ASSERT_EQ(msgs.size(), 3U);
  EXPECT_EQ(msgs[0].delivered_count, 1);
  EXPECT_FALSE(msgs[0].delivered_at.has_value()) << "c has not had it";
  EXPECT_EQ(client_.delivered(g_, c_.id, 1, 7000), 0);
  msgs = history(a_);
  EXPECT_EQ(msgs[0].delivered_count, 2);
  EXPECT_EQ(msgs[0].delivered_at, 7000);  // the last of them
  EXPECT_EQ(msgs[1].delivered_count, 1);
  EXPECT_EQ(msgs[0].read_count, 0);

  // Reading defaults to the last message by another member (m2, not b's
  // own m3) and goes to the others.
  auto read = client_.read(ReadRequest{b_.id, g_, std::nullopt, 8000});
  ASSERT_TRUE(read.has_value() && read->has_value());
  EXPECT_EQ((*read)->conversation_id, g_);
  EXPECT_EQ((*read)->others, (Ids{a_.id, c_.id}));
  EXPECT_EQ((*read)->up_to_id, m2.id);
  EXPECT_EQ((*read)->up_to_seq, 2);
  EXPECT_EQ((*read)->count, 2);
  read = client_.read(ReadRequest{c_.id, g_, m1.id, 9000});
  ASSERT_TRUE(read.has_value() && read->has_value());
  EXPECT_EQ((*read)->count, 1);
  msgs = history(b_);
  EXPECT_EQ(msgs[0].read_count, 2);
  EXPECT_EQ(msgs[0].read_at, 9000);
  EXPECT_EQ(msgs[1].read_count, 1);
  EXPECT_FALSE(msgs[1].read_at.has_value());
  EXPECT_EQ(msgs[2].id, m3.id);
  EXPECT_EQ(msgs[2].delivered_count, 0);  // counts for a and c; neither has it

  // c's pending: m2 and m3, each with its counts.
  const auto pending = client_.pending(c_.id, std::nullopt, 10);
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0].id, m2.id);
  EXPECT_EQ(pending[0].delivered_count, 1);
  EXPECT_EQ(pending[0].read_count, 1);
  EXPECT_EQ(pending[1].id, m3.id);
  EXPECT_TRUE(pending[1].in_group);

  // a has nothing from the others to read but m3.
  read = client_.read(ReadRequest{a_.id, g_, std::nullopt, 9500});
  ASSERT_TRUE(read.has_value() && read->has_value());
  EXPECT_EQ((*read)->others, (Ids{c_.id, b_.id}));
  EXPECT_EQ((*read)->up_to_id, m3.id);
  EXPECT_EQ((*read)->count, 1);

  // A member who joins later counts for none of them.
  ASSERT_TRUE(client_.add_members(a_.id, g_, {d_.id}).has_value());
  msgs = history(d_);
  EXPECT_EQ(msgs[0].delivered_count, 2);
  EXPECT_EQ(msgs[0].delivered_at, 7000);
  EXPECT_EQ(msgs[0].read_at, 9000);
}

INSTANTIATE_TEST_SUITE_P(Store, GroupTest, ::testing::ValuesIn(all_backends()), backend_name);

}  // namespace
}  // namespace parley::store::conformance
