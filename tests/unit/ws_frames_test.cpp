#include "engineio/ws_frames.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace parley::engineio::ws {
namespace {

using Kind = ReadEvent::Kind;

// A client frame: masked with a fixed key.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    f.push_back(static_cast<char>(mask_bit | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((payload.size() >> (8 * i)) & 0xFF));
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) f.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    f.push_back(masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
  }
  return f;
}

std::vector<ReadEvent> read_all(FrameReader& r, const std::string& bytes) {
  std::vector<ReadEvent> out;
  EXPECT_EQ(r.feed(bytes, out), bytes.size());
  return out;
}

TEST(WsFrames, ServerHeadersUseTheShortestLength) {
  EXPECT_EQ(server_header(Opcode::text, 0).view(), std::string("\x81\x00", 2));
  EXPECT_EQ(server_header(Opcode::text, 125).view(), std::string("\x81\x7d", 2));
  EXPECT_EQ(server_header(Opcode::binary, 126).view(), std::string("\x82\x7e\x00\x7e", 4));
  EXPECT_EQ(server_header(Opcode::text, 65535).view(), std::string("\x81\x7e\xff\xff", 4));
  EXPECT_EQ(server_header(Opcode::text, 65536).view(),
            std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  std::string close;
  append_close(close, 1000);
  EXPECT_EQ(close, std::string("\x88\x02\x03\xe8", 4));
}

TEST(WsFrames, ReadsMaskedTextAndBinaryMessagesOfEveryLengthForm) {
  FrameReader r(1 << 20);
  const std::string big(70000, 'x');
  const std::string mid(300, 'y');
  const auto events = read_all(r, client_frame(0x81, "4hello") + client_frame(0x82, "\x01\x02") +
                                      client_frame(0x81, mid) + client_frame(0x81, big));
  ASSERT_EQ(events.size(), 4U);
  EXPECT_EQ(events[0].data, "4hello");
  EXPECT_FALSE(events[0].binary);
  EXPECT_EQ(events[1].data, "\x01\x02");
  EXPECT_TRUE(events[1].binary);
  EXPECT_EQ(events[2].data, mid);
  EXPECT_EQ(events[3].data, big);
}

TEST(WsFrames, AnIncompleteFrameIsLeftForTheNextFeedAtEveryCut) {
  const std::string bytes = client_frame(0x81, std::string(200, 'z')) + client_frame(0x81, "4x");
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    FrameReader r(1000);
    std::vector<ReadEvent> out;
    const std::size_t used = r.feed(std::string_view(bytes).substr(0, cut), out);
    const std::string rest = bytes.substr(used);
    EXPECT_EQ(r.feed(rest, out), rest.size()) << cut;
    ASSERT_EQ(out.size(), 2U) << cut;
    EXPECT_EQ(out[1].data, "4x");
  }
}

TEST(WsFrames, FragmentsAreJoinedWithControlFramesBetween) {
  FrameReader r(100);
  const auto events = read_all(r, client_frame(0x01, "4he") + client_frame(0x89, "p") +
                                      client_frame(0x00, "ll") + client_frame(0x80, "o"));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].kind, Kind::ping);
  EXPECT_EQ(events[0].data, "p");
  EXPECT_EQ(events[1].kind, Kind::message);
  EXPECT_EQ(events[1].data, "4hello");
}

TEST(WsFrames, CloseWithAndWithoutACodeEndsReading) {
  FrameReader r(100);
  auto events = read_all(r, client_frame(0x88, std::string("\x03\xe9", 2) + "bye"));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, Kind::close);
  EXPECT_EQ(events[0].code, 1001);
  EXPECT_TRUE(r.done());
  std::vector<ReadEvent> more;
  EXPECT_EQ(r.feed(client_frame(0x81, "4late"), more), 0U);
  EXPECT_TRUE(more.empty());

  FrameReader r2(100);
  events = read_all(r2, client_frame(0x88, ""));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].code, kCloseNoStatus);
}

struct Violation {
  std::string name;
  std::string bytes;
  std::uint16_t code;
};

TEST(WsFrames, EveryViolationFailsWithItsCloseCode) {
  const std::vector<Violation> cases = {
      {"unmasked", client_frame(0x81, "4x", false), kCloseProtocolError},
      {"rsv1", client_frame(0xC1, "4x"), kCloseProtocolError},
      {"unknown opcode", client_frame(0x83, "x"), kCloseProtocolError},
      {"fragmented ping", client_frame(0x09, "x"), kCloseProtocolError},
      {"long ping", client_frame(0x89, std::string(126, 'p')), kCloseProtocolError},
      {"continuation first", client_frame(0x80, "x"), kCloseProtocolError},
      {"new message mid-fragment", client_frame(0x01, "a") + client_frame(0x81, "b"),
       kCloseProtocolError},
      {"close with one byte", client_frame(0x88, "\x03"), kCloseProtocolError},
      {"close code 1005", client_frame(0x88, std::string("\x03\xed", 2)), kCloseProtocolError},
      {"close code 999", client_frame(0x88, std::string("\x03\xe7", 2)), kCloseProtocolError},
      {"close reason not UTF-8", client_frame(0x88, std::string("\x03\xe8\xff", 3)),
       kCloseInvalidData},
      {"text not UTF-8", client_frame(0x81, "4\xc3\x28"), kCloseInvalidData},
      {"surrogate in text", client_frame(0x81, "4\xed\xa0\x80"), kCloseInvalidData},
      {"too big", client_frame(0x82, std::string(101, 'b')), kCloseTooBig},
      {"too big in fragments",
       client_frame(0x02, std::string(60, 'b')) + client_frame(0x80, std::string(41, 'b')),
       kCloseTooBig},
  };
  for (const auto& c : cases) {
    FrameReader r(100);
    std::vector<ReadEvent> out;
    r.feed(c.bytes, out);
    ASSERT_FALSE(out.empty()) << c.name;
    EXPECT_EQ(out.back().kind, Kind::fail) << c.name;
    EXPECT_EQ(out.back().code, c.code) << c.name;
    EXPECT_TRUE(r.done()) << c.name;
  }
}

TEST(WsFrames, ATooBigFrameFailsFromItsHeaderWithoutWaitingForThePayload) {
  FrameReader r(1000);
  std::string header = client_frame(0x82, std::string(70000, 'b')).substr(0, 14);
  std::vector<ReadEvent> out;
  r.feed(header, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].code, kCloseTooBig);
  // A 64-bit length with the top bit set is a protocol error.
  FrameReader r2(1000);
  std::string huge("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10);
  out.clear();
  r2.feed(huge, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].code, kCloseProtocolError);
}

}  // namespace
}  // namespace parley::engineio::ws
