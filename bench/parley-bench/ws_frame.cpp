#include "parley-bench/ws_frame.hpp"

#include <cstring>

namespace parley::bench {
namespace {

constexpr std::uint8_t kFin = 0x80;
constexpr std::uint8_t kRsvBits = 0x70;
constexpr std::uint8_t kMaskBit = 0x80;
constexpr std::size_t kMaxControlPayload = 125;

bool is_control(std::uint8_t opcode) {
  return (opcode & 0x8) != 0;
}

bool known_opcode(std::uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::continuation:
    case Opcode::text:
    case Opcode::binary:
    case Opcode::close:
    case Opcode::ping:
    case Opcode::pong: return true;
  }
  return false;
}

}  // namespace

void apply_mask(char* data, std::size_t size, const MaskKey& mask) {
  // Eight bytes at a time: the key repeats every four, so a doubled key
  // lines up with every aligned group of eight.
  std::uint64_t wide = 0;
  std::array<std::uint8_t, 8> doubled{mask[0], mask[1], mask[2], mask[3],
                                      mask[0], mask[1], mask[2], mask[3]};
  std::memcpy(&wide, doubled.data(), sizeof wide);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t chunk = 0;
    std::memcpy(&chunk, data + i, sizeof chunk);
    chunk ^= wide;
    std::memcpy(data + i, &chunk, sizeof chunk);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
}

void append_client_frame(std::string& out, Opcode opcode, std::string_view payload,
                         const MaskKey& mask) {
  std::array<std::uint8_t, 14> head{};
  std::size_t n = 0;
  head[n++] = kFin | static_cast<std::uint8_t>(opcode);
  const std::uint64_t size = payload.size();
  if (size < 126) {
    head[n++] = kMaskBit | static_cast<std::uint8_t>(size);
  } else if (size <= 0xffff) {
    head[n++] = kMaskBit | 126;
    head[n++] = static_cast<std::uint8_t>(size >> 8);
    head[n++] = static_cast<std::uint8_t>(size);
  } else {
    head[n++] = kMaskBit | 127;
    for (int shift = 56; shift >= 0; shift -= 8)
      head[n++] = static_cast<std::uint8_t>(size >> shift);
  }
  for (std::uint8_t b : mask) head[n++] = b;
  const std::size_t at = out.size();
  out.append(reinterpret_cast<const char*>(head.data()), n);
  out.append(payload);
  apply_mask(out.data() + at + n, payload.size(), mask);
}

ReadStatus WsReader::fail(std::string_view why) {
  error_ = why;
  return ReadStatus::invalid;
}

ReadStatus WsReader::next(std::string_view input, std::size_t& consumed, WsEvent& event) {
  consumed = 0;
  for (;;) {
    const std::string_view in = input.substr(consumed);
    const auto* p = reinterpret_cast<const std::uint8_t*>(in.data());
    needed_ = 2;
    if (in.size() < 2) return ReadStatus::need_more;
    const std::uint8_t b0 = p[0];
    const std::uint8_t b1 = p[1];
    const bool fin = (b0 & kFin) != 0;
    const std::uint8_t opcode = b0 & 0x0f;
    if ((b0 & kRsvBits) != 0) return fail("RSV bit set without an extension");
    if (!known_opcode(opcode)) return fail("reserved opcode");
    if ((b1 & kMaskBit) != 0) return fail("masked frame from the server");
    std::uint64_t size = b1 & 0x7f;
    std::size_t head = 2;
    if (size == 126) {
      head = 4;
      needed_ = head;
      if (in.size() < head) return ReadStatus::need_more;
      size = (std::uint64_t{p[2]} << 8) | p[3];
      if (size < 126) return fail("length not minimally encoded");
    } else if (size == 127) {
      head = 10;
      needed_ = head;
      if (in.size() < head) return ReadStatus::need_more;
      size = 0;
      for (std::size_t i = 2; i < 10; ++i) size = (size << 8) | p[i];
      if ((size >> 63) != 0) return fail("64-bit length with the top bit set");
      if (size <= 0xffff) return fail("length not minimally encoded");
    }
    if (is_control(opcode)) {
      if (!fin) return fail("fragmented control frame");
      if (size > kMaxControlPayload) return fail("control frame payload over 125 bytes");
    }
    if (size > max_message_) return fail("frame larger than the message limit");
    needed_ = head + static_cast<std::size_t>(size);
    if (in.size() < needed_) return ReadStatus::need_more;
    const std::string_view payload = in.substr(head, static_cast<std::size_t>(size));
    consumed += needed_;

    if (is_control(opcode)) {
      event.payload = payload;
      event.binary = false;
      switch (static_cast<Opcode>(opcode)) {
        case Opcode::ping: event.kind = WsEvent::Kind::ping; break;
        case Opcode::pong: event.kind = WsEvent::Kind::pong; break;
        default: event.kind = WsEvent::Kind::close; break;
      }
      return ReadStatus::event;
    }
    if (static_cast<Opcode>(opcode) == Opcode::continuation) {
      if (!in_message_) return fail("continuation frame outside a fragmented message");
      if (fragments_.size() + payload.size() > max_message_) {
        return fail("fragmented message larger than the message limit");
      }
      fragments_.append(payload);
      if (!fin) continue;
      in_message_ = false;
      event.kind = WsEvent::Kind::message;
      event.binary = fragments_binary_;
      event.payload = fragments_;
      return ReadStatus::event;
    }
    if (in_message_) return fail("new message inside a fragmented message");
    if (!fin) {
      in_message_ = true;
      fragments_binary_ = static_cast<Opcode>(opcode) == Opcode::binary;
      fragments_.assign(payload);
      continue;
    }
    event.kind = WsEvent::Kind::message;
    event.binary = static_cast<Opcode>(opcode) == Opcode::binary;
    event.payload = payload;
    return ReadStatus::event;
  }
}

}  // namespace parley::bench
