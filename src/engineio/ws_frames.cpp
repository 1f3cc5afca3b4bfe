#include "engineio/ws_frames.hpp"

#include "core/utf8.hpp"

namespace parley::engineio::ws {
namespace {

constexpr std::size_t kMaxControlPayload = 125;

bool valid_utf8(std::string_view s) {
  return core::utf8_length(s).has_value();
}

// Codes a peer may send (RFC 6455 7.4): the defined ones it may put on the
// wire, and the registered / private ranges.
bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
    case 1012:
    case 1013:
    case 1014: return true;
    default: return false;
  }
}

std::uint8_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

}  // namespace

FrameHeader server_header(Opcode opcode, std::size_t payload_size) {
  FrameHeader h;
  h.bytes[0] = static_cast<char>(0x80U | static_cast<std::uint8_t>(opcode));
  if (payload_size < 126) {
    h.bytes[1] = static_cast<char>(payload_size);
    h.size = 2;
  } else if (payload_size <= 0xFFFF) {
    h.bytes[1] = static_cast<char>(126);
    h.bytes[2] = static_cast<char>((payload_size >> 8) & 0xFFU);
    h.bytes[3] = static_cast<char>(payload_size & 0xFFU);
    h.size = 4;
  } else {
    h.bytes[1] = static_cast<char>(127);
    const auto len = static_cast<std::uint64_t>(payload_size);
    for (std::size_t i = 0; i < 8; ++i) {
      h.bytes[2 + i] = static_cast<char>((len >> (8 * (7 - i))) & 0xFFU);
    }
    h.size = 10;
  }
  return h;
}

void append_frame(std::string& out, Opcode opcode, std::string_view payload) {
  out.append(server_header(opcode, payload.size()).view());
  out.append(payload);
}

void append_close(std::string& out, std::uint16_t code) {
  const std::array<char, 2> body{static_cast<char>(code >> 8), static_cast<char>(code & 0xFFU)};
  append_frame(out, Opcode::close, std::string_view(body.data(), body.size()));
}

void FrameReader::fail(std::uint16_t code, std::vector<ReadEvent>& out) {
  done_ = true;
  wanted_ = 0;
  message_.clear();
  ReadEvent e;
  e.kind = ReadEvent::Kind::fail;
  e.code = code;
  out.push_back(std::move(e));
}

std::size_t FrameReader::feed(std::string_view input, std::vector<ReadEvent>& out) {
  std::size_t used = 0;
  wanted_ = 0;
  while (!done_) {
    const std::string_view in = input.substr(used);
    if (in.size() < 2) break;
    const std::uint8_t b0 = byte_at(in, 0);
    const std::uint8_t b1 = byte_at(in, 1);
    const bool fin = (b0 & 0x80U) != 0;
    const auto op = static_cast<std::uint8_t>(b0 & 0x0FU);
    if ((b0 & 0x70U) != 0 || (b1 & 0x80U) == 0) {
      fail(kCloseProtocolError, out);  // an extension bit, or an unmasked client frame
      break;
    }
    const bool control = (op & 0x8U) != 0;
    const bool known = op <= 0x2 || (op >= 0x8 && op <= 0xA);
    std::uint64_t len = b1 & 0x7FU;
    if (!known || (control && (!fin || len > kMaxControlPayload))) {
      fail(kCloseProtocolError, out);
      break;
    }
    std::size_t header = 2;
    if (len == 126) {
      if (in.size() < 4) break;
      len = (std::uint64_t{byte_at(in, 2)} << 8) | byte_at(in, 3);
      header = 4;
    } else if (len == 127) {
      if (in.size() < 10) break;
      len = 0;
      for (std::size_t i = 0; i < 8; ++i) len = (len << 8) | byte_at(in, 2 + i);
      header = 10;
      if ((len >> 63) != 0) {
        fail(kCloseProtocolError, out);
        break;
      }
    }
    header += 4;  // the mask key
    if (!control) {
      const auto data_op = static_cast<Opcode>(op);
      if ((data_op == Opcode::continuation) != in_message_) {
        // A continuation with no message begun, or a new message before the
        // last one's final frame.
        fail(kCloseProtocolError, out);
        break;
      }
      const std::size_t so_far = in_message_ ? message_.size() : 0;
      if (len > max_message_ - so_far) {
        fail(kCloseTooBig, out);
        break;
      }
    }
    const auto frame_size = static_cast<std::size_t>(header + len);
    if (in.size() < frame_size) {
      wanted_ = frame_size;
      break;
    }
    const std::string_view mask = in.substr(header - 4, 4);
    const std::string_view payload = in.substr(header, static_cast<std::size_t>(len));
    auto unmask_into = [&](std::string& to) {
      const std::size_t at = to.size();
      to.resize(at + payload.size());
      for (std::size_t i = 0; i < payload.size(); ++i) {
        to[at + i] = static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^
                                       static_cast<std::uint8_t>(mask[i & 3U]));
      }
    };
    used += frame_size;
    if (control) {
      ReadEvent e;
      unmask_into(e.data);
      const auto control_op = static_cast<Opcode>(op);
      if (control_op == Opcode::ping) {
        e.kind = ReadEvent::Kind::ping;
      } else if (control_op == Opcode::pong) {
        e.kind = ReadEvent::Kind::pong;
      } else {
        e.kind = ReadEvent::Kind::close;
        if (e.data.empty()) {
          e.code = kCloseNoStatus;
        } else if (e.data.size() == 1) {
          fail(kCloseProtocolError, out);
          break;
        } else {
          e.code = static_cast<std::uint16_t>((byte_at(e.data, 0) << 8) | byte_at(e.data, 1));
          if (!valid_close_code(e.code)) {
            fail(kCloseProtocolError, out);
            break;
          }
          if (!valid_utf8(std::string_view(e.data).substr(2))) {
            fail(kCloseInvalidData, out);
            break;
          }
        }
        e.data.clear();
        done_ = true;
      }
      out.push_back(std::move(e));
      continue;
    }
    if (!in_message_) {
      in_message_ = true;
      message_binary_ = static_cast<Opcode>(op) == Opcode::binary;
      message_.clear();
    }
    unmask_into(message_);
    if (!fin) continue;
    in_message_ = false;
    if (!message_binary_ && !valid_utf8(message_)) {
      fail(kCloseInvalidData, out);
      break;
    }
    ReadEvent e;
    e.kind = ReadEvent::Kind::message;
    e.binary = message_binary_;
    e.data = std::move(message_);
    message_ = std::string();
    out.push_back(std::move(e));
  }
  return used;
}

}  // namespace parley::engineio::ws
