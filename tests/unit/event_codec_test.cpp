#include "chat/event_codec.hpp"

#include <string>

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
  const DeliveredReceipt r{"m1", "c1", "s1", 99};
  const auto d = decode_delivered(encode(r));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id, "m1");
  EXPECT_EQ(d->conversation_id, "c1");
  EXPECT_EQ(d->sender_id, "s1");
  EXPECT_EQ(d->at, 99);

  ReadEvent e;
  e.outcome.conversation_id = "c1";
  e.outcome.peer_id = "p1";
  e.outcome.up_to_seq = 7;
  e.outcome.read_at = 5;
  e.outcome.count = 3;
  e.reader_id = "r1";
  const auto back = decode_read(encode(e));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->outcome.conversation_id, "c1");
  EXPECT_EQ(back->outcome.peer_id, "p1");
  EXPECT_FALSE(back->outcome.up_to_id.has_value());
  EXPECT_EQ(back->outcome.up_to_seq, 7);
  EXPECT_EQ(back->outcome.read_at, 5);
  EXPECT_EQ(back->outcome.count, 3);
  EXPECT_EQ(back->reader_id, "r1");
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
