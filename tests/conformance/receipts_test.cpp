// Conformance: delivered and read cursors, receipt marks, pending
// deliveries.
#include <string>
#include <vector>

#include "core/object_id.hpp"
#include "store_conformance.hpp"

namespace parley::store::conformance {
namespace {

class Pair {
 public:
  explicit Pair(StoreClient& client)
      : a(client.create_ok("A", "a@example.com")), b(client.create_ok("B", "b@example.com")) {}
  User a, b;
};

std::vector<std::int64_t> seqs(const std::vector<Message>& msgs) {
  std::vector<std::int64_t> out;
  for (const auto& m : msgs) out.push_back(m.seq);
  return out;
}

ReadRequest read_request(const std::string& caller, const std::string& target, EpochMs at,
                         std::optional<std::string> up_to = std::nullopt) {
  return ReadRequest{caller, target, std::move(up_to), at};
}

TEST_P(StoreTest, MarkDeliveredReturnsThePreviousCursor) {
  Pair p(client_);
  const Message m1 = client_.send_ok(p.a.id, p.b.id, "1");
  client_.send_ok(p.a.id, p.b.id, "2");
  client_.send_ok(p.a.id, p.b.id, "3");
  const std::string conv = m1.conversation_id;
  EXPECT_EQ(client_.delivered(conv, p.b.id, 2, 5000), 0);
  EXPECT_EQ(client_.delivered(conv, p.b.id, 2, 6000), 2);  // no move
  EXPECT_EQ(client_.delivered(conv, p.b.id, 1, 6000), 2);  // never down
  EXPECT_EQ(client_.delivered(conv, p.b.id, 3, 7000), 2);
  // Not a member: nothing moves, the answer is up_to_seq.
  const User c = client_.create_ok("C", "c@example.com");
  EXPECT_EQ(client_.delivered(conv, c.id, 3, 7000), 3);
  EXPECT_EQ(client_.delivered(core::new_object_id(), p.b.id, 4, 7000), 4);

  const auto h = client_.history(HistoryQuery{p.a.id, conv, 50, 0, std::nullopt, std::nullopt});
  ASSERT_TRUE(h.has_value() && h->has_value());
  ASSERT_EQ((*h)->messages.size(), 3U);
  EXPECT_EQ((*h)->messages[0].delivered_at, 5000);
  EXPECT_EQ((*h)->messages[1].delivered_at, 5000);
  EXPECT_EQ((*h)->messages[2].delivered_at, 7000);
  for (const auto& m : (*h)->messages) EXPECT_FALSE(m.read_at.has_value());
}

TEST_P(StoreTest, MarkReadMovesBothCursors) {
  Pair p(client_);
  const Message m1 = client_.send_ok(p.a.id, p.b.id, "1");
  const Message m2 = client_.send_ok(p.a.id, p.b.id, "2");
  const Message mine = client_.send_ok(p.b.id, p.a.id, "b's own");
  const Message m4 = client_.send_ok(p.a.id, p.b.id, "4");
  const std::string conv = m1.conversation_id;

  auto r = client_.read(read_request(p.b.id, p.a.id, 8000, m2.id));
  ASSERT_TRUE(r.has_value() && r->has_value()) << (r ? "" : r.error().detail);
  EXPECT_EQ((*r)->conversation_id, conv);
  EXPECT_EQ((*r)->others, std::vector<std::string>{p.a.id});
  EXPECT_EQ((*r)->up_to_id, m2.id);
  EXPECT_EQ((*r)->up_to_seq, 2);
  EXPECT_EQ((*r)->read_at, 8000);
  EXPECT_EQ((*r)->count, 2);

  // Default: up to the peer's last message; b's own message is not counted.
  r = client_.read(read_request(p.b.id, conv, 9000));
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->up_to_id, m4.id);
  EXPECT_EQ((*r)->up_to_seq, 4);
  EXPECT_EQ((*r)->count, 1);
  // Again: nothing new.
  r = client_.read(read_request(p.b.id, conv, 9500));
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->count, 0);

  const auto h = client_.history(HistoryQuery{p.a.id, conv, 50, 0, std::nullopt, std::nullopt});
  ASSERT_TRUE(h.has_value() && h->has_value());
  const auto& msgs = (*h)->messages;
  ASSERT_EQ(msgs.size(), 4U);
  EXPECT_EQ(msgs[0].read_at, 8000);
  EXPECT_EQ(msgs[0].delivered_at, 8000);  // read implies delivered
  EXPECT_EQ(msgs[1].read_at, 8000);
  EXPECT_FALSE(msgs[2].read_at.has_value());  // b's own: a has not read it
  EXPECT_EQ(msgs[2].to, p.a.id);
  EXPECT_EQ(msgs[3].read_at, 9000);
  EXPECT_EQ(msgs[3].id, m4.id);
  (void)mine;

  const auto list = client_.conversations(p.b.id);
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0].unread_count, 0);
  ASSERT_TRUE(list[0].last_message.has_value());
  EXPECT_EQ(list[0].last_message->read_at, 9000);
  EXPECT_EQ(client_.conversations(p.a.id)[0].unread_count, 1);
  // The delivered cursor moved with the read one.
  EXPECT_EQ(client_.delivered(conv, p.b.id, 4, 10000), 4);
}

TEST_P(StoreTest, MarkReadTargets) {
  Pair p(client_);
  const User c = client_.create_ok("C", "c@example.com");
  // A pair that has not talked: an outcome without a conversation.
  auto r = client_.read(read_request(p.a.id, p.b.id, 1000));
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_TRUE((*r)->conversation_id.empty());
  EXPECT_EQ((*r)->others, std::vector<std::string>{p.b.id});
  EXPECT_FALSE((*r)->up_to_id.has_value());
  EXPECT_EQ((*r)->count, 0);

  const Message ab = client_.send_ok(p.a.id, p.b.id, "ab");
  const Message ac = client_.send_ok(p.a.id, c.id, "ac");
  // upTo in another conversation: invalid.
  r = client_.read(read_request(p.b.id, p.a.id, 2000, ac.id));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::validation_failed);
  // Not found: unknown target, a conversation the caller is not in.
  r = client_.read(read_request(p.b.id, core::new_object_id(), 2000));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  r = client_.read(read_request(p.b.id, ac.conversation_id, 2000));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  // The peer has sent nothing: no upTo, nothing read.
  r = client_.read(read_request(p.a.id, ab.conversation_id, 2000));
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_FALSE((*r)->up_to_id.has_value());
  EXPECT_EQ((*r)->count, 0);
}

TEST_P(StoreTest, PendingDeliveriesPageInOrder) {
  Pair p(client_);
  const User c = client_.create_ok("C", "c@example.com");
  std::vector<Message> to_b;
  for (int i = 0; i < 3; ++i) {
    to_b.push_back(client_.send_ok(p.a.id, p.b.id, "a" + std::to_string(i)));
    to_b.push_back(client_.send_ok(c.id, p.b.id, "c" + std::to_string(i)));
  }
  client_.send_ok(p.b.id, p.a.id, "b's own: never pending for b");

  const auto all = client_.pending(p.b.id, std::nullopt, 100);
  ASSERT_EQ(all.size(), 6U);
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto& x = all[i - 1];
    const auto& y = all[i];
    EXPECT_LE(std::tie(x.created_at, x.conversation_id, x.seq),
              std::tie(y.created_at, y.conversation_id, y.seq));
  }
  for (const auto& m : all) EXPECT_EQ(m.to, p.b.id);

  // Pages of 2 through the cursor give the same sequence.
  std::vector<Message> paged;
  std::optional<PendingCursor> after;
  for (int page = 0; page < 10; ++page) {
    const auto got = client_.pending(p.b.id, after, 2);
    if (got.empty()) break;
    EXPECT_LE(got.size(), 2U);
    paged.insert(paged.end(), got.begin(), got.end());
    after = PendingCursor{got.back().created_at, got.back().conversation_id, got.back().seq};
  }
  ASSERT_EQ(paged.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(paged[i].id, all[i].id);

  // Delivered up to seq 2 of a-b (a0, a1; the b message is seq 4): a2 and
  // c's three remain.
  EXPECT_EQ(client_.delivered(to_b[0].conversation_id, p.b.id, 2, 5000), 0);
  const auto rest = client_.pending(p.b.id, std::nullopt, 100);
  ASSERT_EQ(rest.size(), 4U);
  int from_a = 0;
  for (const auto& m : rest) from_a += m.from == p.a.id ? 1 : 0;
  EXPECT_EQ(from_a, 1);
  EXPECT_EQ(seqs(client_.pending(p.a.id, std::nullopt, 100)), std::vector<std::int64_t>{4});
}

}  // namespace
}  // namespace parley::store::conformance
