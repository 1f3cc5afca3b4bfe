// Conformance: conversations, messages, seq, tempId, history paging.
#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/object_id.hpp"
#include "store_conformance.hpp"

namespace parley::store::conformance {
namespace {

HistoryQuery query(const std::string& caller, const std::string& target, std::size_t limit = 50) {
  HistoryQuery q;
  q.caller_id = caller;
  q.target_id = target;
  q.limit = limit;
  return q;
}

// Returns once the clock has moved past `t` (a millisecond at most), so
// that what the store stamps next is strictly later.
void after_ms(EpochMs t) {
  while (core::now_ms() <= t) std::this_thread::yield();
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = from; i <= to; ++i) out.push_back(i);
  return out;
}

TEST_P(StoreTest, FirstMessageCreatesTheConversation) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  EXPECT_FALSE(client_.between(a.id, b.id).has_value());

  NewMessage m;
  m.id = core::new_object_id();
  m.from = a.id;
  m.to = b.id;
  m.text = "hello";
  m.created_at = core::now_ms();
  m.new_conversation_id = core::new_object_id();
  const auto r =
      await<Appended>([&](Callback<Appended> cb) { store_->append_message(m, std::move(cb)); });
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->message.id, m.id);
  EXPECT_EQ(r->message.conversation_id, m.new_conversation_id);
  EXPECT_EQ(r->message.seq, 1);
  EXPECT_EQ(r->message.from, a.id);
  EXPECT_EQ(r->message.to, b.id);
  EXPECT_EQ(r->message.text, "hello");
  EXPECT_FALSE(r->message.temp_id.has_value());
  EXPECT_GT(r->message.created_at, 0);
  EXPECT_EQ(client_.between(a.id, b.id), m.new_conversation_id);
  EXPECT_EQ(client_.between(b.id, a.id), m.new_conversation_id);

  // Both directions share it; seq goes on.
  const Message reply = client_.send_ok(b.id, a.id, "hi");
  EXPECT_EQ(reply.conversation_id, m.new_conversation_id);
  EXPECT_EQ(reply.seq, 2);
  EXPECT_GE(reply.created_at, r->message.created_at);
}

TEST_P(StoreTest, AppendToAnUnknownRecipientIsNotFound) {
  const User a = client_.create_ok("A", "a@example.com");
  const auto r = client_.send(a.id, core::new_object_id(), "anyone?");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::not_found);
}

TEST_P(StoreTest, ATempIdRetryReturnsTheOriginal) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  const auto first = client_.send(a.id, b.id, "once", "t-1");
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->message.temp_id, "t-1");
  client_.send_ok(b.id, a.id, "between");

  const auto retry = client_.send(a.id, b.id, "once", "t-1");
  ASSERT_TRUE(retry.has_value()) << retry.error().detail;
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->message.id, first->message.id);
  EXPECT_EQ(retry->message.seq, 1);
  EXPECT_EQ(retry->message.to, b.id);
  EXPECT_EQ(retry->message.created_at, first->message.created_at);
  // The same tempId from another sender is another message.
  const auto other = client_.send(b.id, a.id, "mine", "t-1");
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->duplicate);
  EXPECT_EQ(other->message.seq, 3);
  // No seq was spent on the retry.
  EXPECT_EQ(client_.history_seqs(query(a.id, b.id)), range(1, 3));
}

TEST_P(StoreTest, ConcurrentRetriesOfOneTempIdStoreOneMessage) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  client_.send_ok(b.id, a.id, "first");  // the conversation exists: the cached path
  constexpr std::size_t kTries = 20;
  std::vector<Pending<Appended>> pending(kTries);
  for (auto& p : pending) {
    NewMessage m{
        core::new_object_id(), a.id, b.id, std::nullopt, "retry me", "t-race", core::now_ms(),
        core::new_object_id()};
    store_->append_message(std::move(m), p.callback());
  }
  std::set<std::string> ids;
  int originals = 0;
  for (auto& p : pending) {
    const auto r = p.get();
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    ids.insert(r->message.id);
    if (!r->duplicate) ++originals;
    EXPECT_EQ(r->message.seq, 2);
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(ids.size(), 1U);
  EXPECT_EQ(client_.history_seqs(query(a.id, b.id)), range(1, 2));
}

TEST_P(StoreTest, SeqIsGaplessAndUniqueUnderConcurrentAppends) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  // Each thread issues its messages without waiting, then collects them:
  // one sender's messages keep their order.
  std::vector<std::vector<std::int64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const User& from = t % 2 ? a : b;
      const User& to = t % 2 ? b : a;
      std::vector<Pending<Appended>> pending(kPerThread);
      for (int i = 0; i < kPerThread; ++i) {
        NewMessage m{core::new_object_id(),
                     from.id,
                     to.id,
                     std::nullopt,
                     "m" + std::to_string(t) + "-" + std::to_string(i),
                     std::nullopt,
                     core::now_ms(),
                     core::new_object_id()};
        store_->append_message(std::move(m), pending[static_cast<std::size_t>(i)].callback());
      }
      for (auto& p : pending) {
        auto r = p.get();
        EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
        if (r) seqs[static_cast<std::size_t>(t)].push_back(r->message.seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::int64_t> all;
  for (const auto& s : seqs) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end())) << "a sender's order was not kept";
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, range(1, kThreads * kPerThread));
  auto q = query(a.id, b.id, 1000);
  const auto h = client_.history(q);
  ASSERT_TRUE(h.has_value() && h->has_value());
  ASSERT_EQ((*h)->messages.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (std::size_t i = 1; i < (*h)->messages.size(); ++i) {
    EXPECT_GE((*h)->messages[i].created_at, (*h)->messages[i - 1].created_at)
        << "created_at went back at seq " << (*h)->messages[i].seq;
  }
}

TEST_P(StoreTest, HistoryPages) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  std::vector<Message> sent;
  for (int i = 1; i <= 10; ++i) {
    sent.push_back(
        client_.send_ok(i % 3 ? a.id : b.id, i % 3 ? b.id : a.id, "m" + std::to_string(i)));
  }
  const std::string conv = sent.front().conversation_id;
  // Newest first pages, each oldest first.
  EXPECT_EQ(client_.history_seqs(query(a.id, b.id, 3)), range(8, 10));
  auto q = query(a.id, conv, 3);
  q.skip = 3;
  EXPECT_EQ(client_.history_seqs(q), range(5, 7));
  q = query(b.id, a.id, 3);
  q.before_id = sent[4].id;  // seq 5
  EXPECT_EQ(client_.history_seqs(q), range(2, 4));
  q.skip = 2;
  EXPECT_EQ(client_.history_seqs(q), range(1, 2));
  // afterSeq: oldest first from there.
  q = query(a.id, conv, 3);
  q.after_seq = 2;
  EXPECT_EQ(client_.history_seqs(q), range(3, 5));
  q.after_seq = 8;
  EXPECT_EQ(client_.history_seqs(q), range(9, 10));
  q.after_seq = 10;
  EXPECT_TRUE(client_.history_seqs(q).empty());
  q = query(a.id, conv, 0);
  EXPECT_TRUE(client_.history_seqs(q).empty());

  const auto h = client_.history(query(b.id, conv));
  ASSERT_TRUE(h.has_value() && h->has_value());
  EXPECT_EQ((*h)->conversation_id, conv);
  ASSERT_EQ((*h)->messages.size(), 10U);
  const Message& m = (*h)->messages[2];  // seq 3, from b
  EXPECT_EQ(m.id, sent[2].id);
  EXPECT_EQ(m.from, b.id);
  EXPECT_EQ(m.to, a.id);
  EXPECT_EQ(m.text, "m3");
  EXPECT_EQ(m.created_at, sent[2].created_at);
  EXPECT_FALSE(m.delivered_at.has_value());
  EXPECT_FALSE(m.read_at.has_value());
}

TEST_P(StoreTest, HistoryBeforeAMessageOfAnotherConversationIsInvalid) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  const User c = client_.create_ok("C", "c@example.com");
  client_.send_ok(a.id, b.id, "ab");
  const Message ac = client_.send_ok(a.id, c.id, "ac");
  auto q = query(a.id, b.id);
  q.before_id = ac.id;
  auto r = client_.history(q);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::validation_failed);
  q.before_id = core::new_object_id();
  r = client_.history(q);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::validation_failed);
}

TEST_P(StoreTest, HistoryTargets) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  const User c = client_.create_ok("C", "c@example.com");
  // A pair that has not talked: found, no conversation yet.
  auto r = client_.history(query(a.id, b.id));
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_TRUE((*r)->conversation_id.empty());
  EXPECT_TRUE((*r)->messages.empty());
  const Message m = client_.send_ok(a.id, b.id, "hi");
  // Not found: an unknown id, the caller themself, a conversation the caller
  // is not in.
  for (const std::string& target : {core::new_object_id(), a.id}) {
    r = client_.history(query(a.id, target));
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_value()) << target;
  }
  r = client_.history(query(c.id, m.conversation_id));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  // By the peer's id and by the conversation's id: the same.
  EXPECT_EQ(client_.history_seqs(query(b.id, a.id)),
            client_.history_seqs(query(b.id, m.conversation_id)));
}

TEST_P(StoreTest, ConversationsListAndOne) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  const User c = client_.create_ok("C", "c@example.com");
  const User d = client_.create_ok("D", "d@example.com");
  const Message ab1 = client_.send_ok(a.id, b.id, "ab1");
  const Message ca1 = client_.send_ok(c.id, a.id, "ca1");
  const Message ca2 = client_.send_ok(c.id, a.id, "ca2");
  after_ms(ca2.created_at);
  const Message ba1 = client_.send_ok(b.id, a.id, "ba1");  // a-b is the most recent now

  const auto list = client_.conversations(a.id);
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].id, ab1.conversation_id);
  EXPECT_EQ(list[1].id, ca1.conversation_id);
  std::vector<std::string> ab_members{a.id, b.id};
  std::sort(ab_members.begin(), ab_members.end());
  EXPECT_EQ(list[0].participants, ab_members);
  EXPECT_EQ(list[0].peer.id, b.id);
  EXPECT_EQ(list[0].peer.name, "B");
  EXPECT_EQ(list[0].peer.email, "b@example.com");
  ASSERT_TRUE(list[0].last_message.has_value());
  EXPECT_EQ(list[0].last_message->id, ba1.id);
  EXPECT_EQ(list[0].last_message->to, a.id);
  EXPECT_EQ(list[0].unread_count, 1);
  EXPECT_EQ(list[0].updated_at, ba1.created_at);
  EXPECT_EQ(list[1].peer.id, c.id);
  EXPECT_EQ(list[1].last_message->id, ca2.id);
  EXPECT_EQ(list[1].unread_count, 2);
  EXPECT_GT(list[0].updated_at, list[1].updated_at);

  const auto for_b = client_.conversations(b.id);
  ASSERT_EQ(for_b.size(), 1U);
  EXPECT_EQ(for_b[0].peer.id, a.id);
  EXPECT_EQ(for_b[0].unread_count, 1);  // ab1; not b's own message
  EXPECT_TRUE(client_.conversations(d.id).empty());

  auto one = client_.conversation(a.id, ca1.conversation_id);
  ASSERT_TRUE(one.has_value() && one->has_value());
  EXPECT_EQ((*one)->id, ca1.conversation_id);
  EXPECT_EQ((*one)->peer.id, c.id);
  EXPECT_EQ((*one)->unread_count, 2);
  EXPECT_EQ((*one)->last_message->id, ca2.id);
  for (const auto& [user, conv] :
       {std::pair{d.id, ca1.conversation_id}, std::pair{b.id, ca1.conversation_id},
        std::pair{a.id, core::new_object_id()}}) {
    one = client_.conversation(user, conv);
    ASSERT_TRUE(one.has_value());
    EXPECT_FALSE(one->has_value());
  }
}

TEST_P(StoreTest, ContactsMembersAndPairs) {
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  const User c = client_.create_ok("C", "c@example.com");
  const User d = client_.create_ok("D", "d@example.com");
  client_.send_ok(a.id, b.id, "hi");
  client_.send_ok(b.id, a.id, "hi");  // the same conversation: B once
  client_.send_ok(c.id, a.id, "hi");
  auto contacts = [&](const User& u, std::size_t limit = 100) {
    auto r = await<std::vector<std::string>>([&](Callback<std::vector<std::string>> cb) {
      store_->contacts(u.id, limit, std::move(cb));
    });
    EXPECT_TRUE(r.has_value());
    auto ids = r ? *r : std::vector<std::string>{};
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  std::vector<std::string> of_a{b.id, c.id};
  std::sort(of_a.begin(), of_a.end());
  EXPECT_EQ(contacts(a), of_a);
  EXPECT_EQ(contacts(b), std::vector<std::string>{a.id});
  EXPECT_TRUE(contacts(d).empty());
  EXPECT_EQ(contacts(a, 1).size(), 1U);

  // The members of a direct conversation, for its members only.
  auto members = [&](const User& u, const std::string& conversation) {
    auto r = client_.members(u.id, conversation);
    EXPECT_TRUE(r.has_value());
    auto ids = r && *r ? **r : std::vector<std::string>{"none"};
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  const auto ab = client_.between(a.id, b.id);
  ASSERT_TRUE(ab.has_value());
  std::vector<std::string> pair{a.id, b.id};
  std::sort(pair.begin(), pair.end());
  EXPECT_EQ(members(a, *ab), pair);
  EXPECT_EQ(members(b, *ab), pair);
  EXPECT_EQ(members(c, *ab), std::vector<std::string>{"none"});
  EXPECT_EQ(members(a, core::new_object_id()), std::vector<std::string>{"none"});
  EXPECT_FALSE(client_.between(b.id, c.id).has_value());
  EXPECT_FALSE(client_.between(a.id, d.id).has_value());
}

}  // namespace
}  // namespace parley::store::conformance
