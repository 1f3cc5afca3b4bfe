#include "chat/event_codec.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chat/delivery.hpp"

namespace parley::chat {
namespace {

Committed committed() {
  Committed c;
  c.origin = "sock1";
  store::Message& m = c.message;
  m.id = "650000000000000000000001";
  m.conversation_id = "650000000000000000000002";
  m.seq = 42;
  m.from = "650000000000000000000003";
  m.to = "650000000000000000000004";
  m.text = std::string("line 1\nline 2 with 12:colons\0and a NUL", 38);
  m.temp_id = "t-1";
  m.created_at = 1700000000123;
  m.read_at = 1700000000999;
  return c;
}

TEST(EventCodec, CommittedRoundTrips) {
  const Committed c = committed();
  const std::string payload = encode(c);
  EXPECT_EQ(event_kind(payload), EventKind::committed);
  const auto d = decode_committed(payload);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->origin, c.origin);
  EXPECT_EQ(d->message.id, c.message.id);
  EXPECT_EQ(d->message.conversation_id, c.message.conversation_id);
  EXPECT_EQ(d->message.seq, 42);
  EXPECT_EQ(d->message.from, c.message.from);
  EXPECT_EQ(d->message.to, c.message.to);
  EXPECT_EQ(d->message.text, c.message.text);
  EXPECT_EQ(d->message.temp_id, c.message.temp_id);
  EXPECT_EQ(d->message.created_at, c.message.created_at);
  EXPECT_FALSE(d->message.delivered_at.has_value());
  EXPECT_EQ(d->message.read_at, c.message.read_at);
}

TEST(EventCodec, ReceiptsRoundTrip) {
  const std::vector<DeliveredReceipt> rs{{"m1", "c1", "s1", 99, "u1", true},
                                         {"m2", "c2", "s2", 100, "u2", false}};
  const auto d = decode_delivered(encode(rs));
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->size(), 2U);
  EXPECT_EQ((*d)[0].message_id, "m1");
  EXPECT_EQ((*d)[0].conversation_id, "c1");
  EXPECT_EQ((*d)[0].sender_id, "s1");
  EXPECT_EQ((*d)[0].at, 99);
  EXPECT_EQ((*d)[0].user_id, "u1");
  EXPECT_TRUE((*d)[0].in_group);
  EXPECT_EQ((*d)[1].message_id, "m2");
  EXPECT_FALSE((*d)[1].in_group);
  const std::string payload = encode(rs);
  for (std::size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(decode_delivered(payload.substr(0, n)).has_value()) << n;
  }
  EXPECT_TRUE(decode_delivered(encode(std::vector<DeliveredReceipt>{}))->empty());

  ReadEvent e;
  e.outcome.conversation_id = "c1";
  e.outcome.others = {"p1", "p2"};
  e.outcome.up_to_seq = 7;
  e.outcome.read_at = 5;
  e.outcome.count = 3;
  e.reader_id = "r1";
  const auto back = decode_read(encode(e));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->outcome.conversation_id, "c1");
  EXPECT_EQ(back->outcome.others, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_FALSE(back->outcome.up_to_id.has_value());
  EXPECT_EQ(back->outcome.up_to_seq, 7);
  EXPECT_EQ(back->outcome.read_at, 5);
  EXPECT_EQ(back->outcome.count, 3);
  EXPECT_EQ(back->reader_id, "r1");
}

TEST(EventCodec, AGroupMessageRoundTripsWithItsMembersAndCounts) {
  Committed c = committed();
  c.message.to.clear();
  c.message.in_group = true;
  c.message.delivered_count = 3;
  c.message.read_count = 2;
  c.members =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"a", "", "c\nd"});
  const auto d = decode_committed(encode(c));
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->message.in_group);
  EXPECT_EQ(d->message.delivered_count, 3);
  EXPECT_EQ(d->message.read_count, 2);
  ASSERT_TRUE(d->members);
  EXPECT_EQ(*d->members, *c.members);
  // A direct message has no member list.
  EXPECT_FALSE(decode_committed(encode(committed()))->members);
}

store::GroupUpdate group_update() {
  store::GroupUpdate u;
  store::ConversationSummary& c = u.conversation;
  c.type = store::ConversationType::group;
  c.id = "g1";
  c.name = "Team: 3";
  c.owner_id = "o1";
  c.participants = {"o1", "m2", "m3"};
  c.unread_count = 4;
  c.created_at = 10;
  c.updated_at = 20;
  c.last_message = committed().message;
  u.audience = {{"o1", 4}, {"m2", 0}, {"m3", 9}, {"gone", 0}};
  u.removed = "gone";
  return u;
}

TEST(EventCodec, AGroupUpdateRoundTrips) {
  const store::GroupUpdate u = group_update();
  const std::string payload = encode(u);
  EXPECT_EQ(event_kind(payload), EventKind::conversation);
  const auto d = decode_group_update(payload);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->conversation.type, store::ConversationType::group);
  EXPECT_EQ(d->conversation.id, "g1");
  EXPECT_EQ(d->conversation.name, "Team: 3");
  EXPECT_EQ(d->conversation.owner_id, "o1");
  EXPECT_EQ(d->conversation.participants, u.conversation.participants);
  EXPECT_EQ(d->conversation.unread_count, 4);
  EXPECT_EQ(d->conversation.created_at, 10);
  EXPECT_EQ(d->conversation.updated_at, 20);
  ASSERT_TRUE(d->conversation.last_message.has_value());
  EXPECT_EQ(d->conversation.last_message->text, committed().message.text);
  EXPECT_EQ(d->audience, u.audience);
  EXPECT_EQ(d->removed, u.removed);
  EXPECT_TRUE(d->changed);
  for (std::size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(decode_group_update(payload.substr(0, n)).has_value()) << n;
  }
}

TEST(EventCodec, AListCountBeyondThePayloadIsRefusedBeforeAnythingIsReserved) {
  // "c" + id, name, owner, then a list claiming a billion participants.
  EXPECT_FALSE(decode_group_update("c2:g11:n2:o110:1000000000").has_value());
  EXPECT_FALSE(decode_group_update("c2:g11:n2:o12:-1").has_value());
}

TEST(EventCodec, EveryTruncationAndTheWrongKindDecodeToNothing) {
  const std::string payload = encode(committed());
  for (std::size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(decode_committed(payload.substr(0, n)).has_value()) << n;
  }
  EXPECT_FALSE(decode_committed(payload + "1:x").has_value());
  EXPECT_FALSE(decode_delivered(payload).has_value());
  EXPECT_FALSE(decode_committed("m99999999999999999999999:x").has_value());
  EXPECT_FALSE(decode_committed("m-1:x").has_value());
  EXPECT_FALSE(event_kind("").has_value());
  EXPECT_FALSE(event_kind("z").has_value());
}

}  // namespace
}  // namespace parley::chat
