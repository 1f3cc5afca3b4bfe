// WebSocket framing (RFC 6455) for the client side of a load generator, as
// pure functions and a reader with no I/O, so they can be tested alone.
//
// Client frames are always masked (the RFC requires it of clients); server
// frames must not be. No extension is ever negotiated, so any RSV bit is a
// protocol error. The reader is bounded: a frame or a reassembled message
// larger than `max_message` is refused rather than buffered.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xa,
};

using MaskKey = std::array<std::uint8_t, 4>;

// Appends one final (FIN) frame carrying `payload`, masked with `mask`.
void append_client_frame(std::string& out, Opcode opcode, std::string_view payload,
                         const MaskKey& mask);

// Unmasks (or masks: XOR is its own inverse) `size` bytes in place.
void apply_mask(char* data, std::size_t size, const MaskKey& mask);

// What the reader found at the front of its input.
struct WsEvent {
  enum class Kind { message, ping, pong, close };
  Kind kind = Kind::message;
  bool binary = false;       // for messages: a binary rather than a text message
  std::string_view payload;  // valid until the next call to WsReader::next()
};

enum class ReadStatus {
  event,      // `event` is set
  need_more,  // the input after `consumed` ends inside a frame of `needed()` bytes
  invalid,    // a protocol violation; `error()` says which
};

// Splits the bytes a server sent into messages and control frames,
// reassembling fragmented messages. Each call looks at the unconsumed input
// from its start; the caller drops the first `consumed` bytes after it.
class WsReader {
 public:
  explicit WsReader(std::size_t max_message) : max_message_(max_message) {}

  // `consumed` counts bytes used up even when no event is returned (the
  // fragments of a message not yet complete are copied aside).
  ReadStatus next(std::string_view input, std::size_t& consumed, WsEvent& event);

  std::size_t needed() const { return needed_; }
  std::string_view error() const { return error_; }

 private:
  ReadStatus fail(std::string_view why);

  std::size_t max_message_;
  std::size_t needed_ = 0;
  std::string_view error_;
  std::string fragments_;  // reused: the message being reassembled, then the last one delivered
  bool in_message_ = false;
  bool fragments_binary_ = false;
};

}  // namespace parley::bench
