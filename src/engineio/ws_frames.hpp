// parley::engineio WebSocket frames (RFC 6455), server side: the frames a
// client sends, read into messages and control frames, and the headers of
// the frames the server writes.
//
// DESIGN
// - Why not Beast past the handshake: Beast writes one message per write
//   call, and its reads write control frames (pongs, the close reply) on
//   their own, so a session's queued packets could not go out in one gather
//   write beside it. The transport keeps Beast for the HTTP handshake and
//   does the framing with this.
// - Bounded before buffered: a frame's length is checked against the
//   message limit as soon as its header is read, so no input makes the
//   reader wait for (or hold) more than max_message bytes plus a header.
// - Strict: client frames must be masked; no extension is negotiated, so
//   RSV bits are errors; control frames are short and unfragmented; a
//   fragmented message is continued only by continuation frames; text is
//   valid UTF-8 (checked per message); close codes are valid ones. Each
//   violation is a `fail` event with the close code to answer (1002, 1007
//   or 1009), after which the reader reads nothing more.
// - Pure: no I/O; fuzzed (tests/fuzz/ws_frames_fuzz.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::engineio::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close codes the server sends.
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseNoStatus = 1005;  // a close frame without a code
inline constexpr std::uint16_t kCloseInvalidData = 1007;
inline constexpr std::uint16_t kCloseTooBig = 1009;

// The header of an unmasked, final server frame of `payload_size` bytes.
struct FrameHeader {
  std::array<char, 10> bytes{};
  std::size_t size = 0;
  std::string_view view() const { return {bytes.data(), size}; }
};
FrameHeader server_header(Opcode opcode, std::size_t payload_size);

// Appends a whole server frame (header and payload) to `out`.
void append_frame(std::string& out, Opcode opcode, std::string_view payload);
// Appends a close frame with `code` (no reason).
void append_close(std::string& out, std::uint16_t code);

struct ReadEvent {
  enum class Kind { message, ping, pong, close, fail };
  Kind kind = Kind::message;
  bool binary = false;  // message
  std::string data;     // message; ping and pong payloads
  std::uint16_t code =
      0;  // close: the peer's code (kCloseNoStatus if none); fail: the code to answer
};

class FrameReader {
 public:
  explicit FrameReader(std::size_t max_message) : max_message_(max_message) {}

  // Reads the complete frames at the start of `input`, appending their
  // events to `out`, and returns how many bytes they took; the rest is the
  // start of a frame, to be given again with more bytes. After a close or
  // fail event it reads nothing more.
  std::size_t feed(std::string_view input, std::vector<ReadEvent>& out);

  // Bytes the frame at the start of the unread rest needs in all (header and
  // payload) when that is known, else 0; never more than max_message plus
  // a header. For sizing the read buffer.
  std::size_t wanted() const { return wanted_; }
  bool done() const { return done_; }

 private:
  void fail(std::uint16_t code, std::vector<ReadEvent>& out);

  std::size_t max_message_;
  std::size_t wanted_ = 0;
  bool done_ = false;
  // A fragmented message being assembled.
  bool in_message_ = false;
  bool message_binary_ = false;
  std::string message_;
};

}  // namespace parley::engineio::ws
