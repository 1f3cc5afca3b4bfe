// parley::engineio codec: Engine.IO v4 packets and polling payloads as pure
// functions (no I/O, no state), so they can be fuzzed and unit-tested alone.
//
// A packet is a type digit and data: "4hello" is a message "hello". Binary
// packets travel as WebSocket binary frames, or on polling as "b" + base64.
// A polling payload is packets joined by the record separator 0x1e.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::engineio {

enum class PacketType : char {
  open = '0',
  close = '1',
  ping = '2',
  pong = '3',
  message = '4',
  upgrade = '5',
  noop = '6',
};

struct Packet {
  PacketType type = PacketType::message;
  std::string data;
  bool binary = false;  // only messages are binary
};

inline constexpr char kRecordSeparator = '\x1e';

// A text frame / payload segment ("4hello"); nullopt when malformed.
std::optional<Packet> decode_text(std::string_view text);
// A binary WebSocket frame: always a binary message.
Packet decode_binary(std::string_view bytes);
// The text form of a non-binary packet.
std::string encode_text(const Packet& p);

// Polling payload (request body of a POST). nullopt when any packet is
// malformed or there are more than `max_packets`.
std::optional<std::vector<Packet>> decode_payload(std::string_view body,
                                                  std::size_t max_packets = 10000);
// Polling payload (response body of a GET).
std::string encode_payload(const std::vector<Packet>& packets);

}  // namespace parley::engineio
