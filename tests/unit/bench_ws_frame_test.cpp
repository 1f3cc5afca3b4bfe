#include "parley-bench/ws_frame.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace parley::bench {
namespace {

constexpr MaskKey kMask{0x12, 0x34, 0x56, 0x78};

// A server frame: never masked.
std::string server_frame(Opcode opcode, std::string_view payload, bool fin = true) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0x00) | static_cast<int>(opcode));
  if (payload.size() < 126) {
    f += static_cast<char>(payload.size());
  } else if (payload.size() <= 0xffff) {
    f += static_cast<char>(126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  } else {
    f += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      f += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xff);
    }
  }
  f += payload;
  return f;
}

// Feeds `wire` to a reader in chunks of the given sizes (cycled), as reads
// from a socket would, and collects the messages.
std::vector<std::string> read_all(const std::string& wire, const std::vector<std::size_t>& chunks,
                                  std::size_t max_message = 1 << 20) {
  WsReader reader(max_message);
  std::string buffer;
  std::vector<std::string> out;
  std::size_t fed = 0;
  for (std::size_t i = 0; fed < wire.size(); ++i) {
    const std::size_t n = std::min(chunks[i % chunks.size()], wire.size() - fed);
    buffer.append(wire, fed, n);
    fed += n;
    for (;;) {
      std::size_t consumed = 0;
      WsEvent ev;
      const ReadStatus st = reader.next(buffer, consumed, ev);
      if (st == ReadStatus::invalid) {
        ADD_FAILURE() << reader.error();
        return out;
      }
      if (st == ReadStatus::event) {
        if (ev.kind == WsEvent::Kind::message) out.emplace_back(ev.payload);
        if (ev.kind == WsEvent::Kind::ping) out.push_back("ping:" + std::string(ev.payload));
        if (ev.kind == WsEvent::Kind::close) out.emplace_back("close");
      }
      buffer.erase(0, consumed);
      if (st == ReadStatus::need_more) break;
    }
  }
  EXPECT_TRUE(buffer.empty());
  return out;
}

TEST(BenchWsFrame, ClientFramesAreMaskedWithMinimalLengths) {
  for (std::size_t size : {0U, 1U, 125U, 126U, 65535U, 65536U}) {
    const std::string payload(size, 'x');
    std::string out;
    append_client_frame(out, Opcode::text, payload, kMask);
    const auto b1 = static_cast<unsigned char>(out[1]);
    EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x81);
    EXPECT_EQ(b1 & 0x80, 0x80) << "mask bit";
    const std::size_t head = size < 126 ? 2 : size <= 0xffff ? 4 : 10;
    EXPECT_EQ(static_cast<std::size_t>(b1 & 0x7f), size < 126       ? size
                                                   : size <= 0xffff ? 126U
                                                                    : 127U);
    ASSERT_EQ(out.size(), head + 4 + size);
    std::string unmasked = out.substr(head + 4);
    apply_mask(unmasked.data(), unmasked.size(), kMask);
    EXPECT_EQ(unmasked, payload);
  }
}

TEST(BenchWsFrame, MaskMatchesTheBytewiseDefinition) {
  std::string data;
  for (int i = 0; i < 37; ++i) data += static_cast<char>(i * 7);
  std::string masked = data;
  apply_mask(masked.data(), masked.size(), kMask);
  for (std::size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(static_cast<unsigned char>(masked[i]),
              static_cast<unsigned char>(data[i]) ^ kMask[i % 4]);
  }
}

TEST(BenchWsFrame, MessagesSurviveAnySplitIntoReads) {
  std::string wire;
  std::vector<std::string> expected;
  for (std::size_t size : {0U, 3U, 125U, 126U, 300U, 70000U}) {
    expected.emplace_back(size, static_cast<char>('a' + size % 26));
    wire += server_frame(Opcode::text, expected.back());
  }
  // A ping between the fragments of a message, answered on its own.
  wire += server_frame(Opcode::text, "frag", false);
  wire += server_frame(Opcode::ping, "p");
  wire += server_frame(Opcode::continuation, "men", false);
  wire += server_frame(Opcode::continuation, "ted");
  expected.emplace_back("ping:p");
  expected.emplace_back("fragmented");
  wire += server_frame(Opcode::close, "");
  expected.emplace_back("close");

  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> chunks;
    for (int i = 0; i < 16; ++i) chunks.push_back(1 + rng() % (round < 25 ? 7 : 5000));
    EXPECT_EQ(read_all(wire, chunks), expected) << "round " << round;
  }
  EXPECT_EQ(read_all(wire, {wire.size()}), expected);
}

ReadStatus read_one(const std::string& wire, std::string& error, std::size_t max = 1 << 20) {
  WsReader reader(max);
  std::size_t consumed = 0;
  WsEvent ev;
  ReadStatus st = reader.next(wire, consumed, ev);
  while (st == ReadStatus::event && consumed < wire.size()) {
    st = reader.next(std::string_view(wire).substr(consumed), consumed, ev);
  }
  error = std::string(reader.error());
  return st;
}

TEST(BenchWsFrame, ProtocolViolationsAreRefused) {
  std::string error;
  std::string masked = server_frame(Opcode::text, "hi");
  masked[1] = static_cast<char>(masked[1] | 0x80);
  EXPECT_EQ(read_one(masked + "abcd", error), ReadStatus::invalid);
  EXPECT_EQ(error, "masked frame from the server");

  std::string rsv = server_frame(Opcode::text, "hi");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  EXPECT_EQ(read_one(rsv, error), ReadStatus::invalid);

  std::string reserved = server_frame(Opcode::text, "hi");
  reserved[0] = static_cast<char>(0x83);
  EXPECT_EQ(read_one(reserved, error), ReadStatus::invalid);

  EXPECT_EQ(read_one(server_frame(Opcode::ping, "", false), error), ReadStatus::invalid);
  EXPECT_EQ(read_one(server_frame(Opcode::ping, std::string(126, 'p')), error),
            ReadStatus::invalid);
  EXPECT_EQ(read_one(server_frame(Opcode::continuation, "x"), error), ReadStatus::invalid);
  EXPECT_EQ(
      read_one(server_frame(Opcode::text, "a", false) + server_frame(Opcode::text, "b"), error),
      ReadStatus::invalid);

  // 16-bit length used for a payload that fits in 7 bits.
  const std::string long_short{'\x81', '\x7e', '\x00', '\x05', 'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(read_one(long_short, error), ReadStatus::invalid);
  EXPECT_EQ(error, "length not minimally encoded");

  // Over the message limit, alone or reassembled.
  EXPECT_EQ(read_one(server_frame(Opcode::text, std::string(200, 'x')), error, 100),
            ReadStatus::invalid);
  EXPECT_EQ(read_one(server_frame(Opcode::text, std::string(60, 'x'), false) +
                         server_frame(Opcode::continuation, std::string(60, 'x')),
                     error, 100),
            ReadStatus::invalid);
}

TEST(BenchWsFrame, IncompleteFramesAskForTheirSize) {
  WsReader reader(1 << 20);
  const std::string frame = server_frame(Opcode::text, std::string(300, 'y'));
  std::size_t consumed = 0;
  WsEvent ev;
  EXPECT_EQ(reader.next(std::string_view(frame).substr(0, 1), consumed, ev), ReadStatus::need_more);
  EXPECT_EQ(reader.next(std::string_view(frame).substr(0, 10), consumed, ev),
            ReadStatus::need_more);
  EXPECT_EQ(reader.needed(), frame.size());
  EXPECT_EQ(consumed, 0U);
  EXPECT_EQ(reader.next(frame, consumed, ev), ReadStatus::event);
  EXPECT_EQ(consumed, frame.size());
  EXPECT_EQ(ev.payload.size(), 300U);
}

}  // namespace
}  // namespace parley::bench
