// parley::socketio codec: Socket.IO v5 packets as pure functions.
//
//   <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
//
// e.g. `2["chat",1]`, `21/admin,["x"]`, `451-["up",{"_placeholder":true,"num":0}]`.
// The decoder is strict and bounded (like socket.io-parser): unknown types,
// attachment counts over the limit, ack ids that are not small non-negative
// integers, invalid JSON and payloads of the wrong shape are all errors,
// which close the session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace parley::socketio {

enum class PacketType : char {
  connect = '0',
  disconnect = '1',
  event = '2',
  ack = '3',
  connect_error = '4',
  binary_event = '5',
  binary_ack = '6',
};

struct Packet {
  PacketType type = PacketType::event;
  std::string nsp = "/";
  std::optional<std::uint32_t> id;  // ack id
  std::size_t attachments = 0;      // binary packets only
  bool has_data = false;
  rapidjson::Document data;  // the parsed JSON payload when has_data
};

// Ack ids above this are refused (they must be small non-negative ints).
inline constexpr std::uint32_t kMaxAckId = 0x7fffffff;

struct DecodeLimits {
  std::size_t max_attachments = 10;
  std::size_t max_json_depth = 64;  // nesting of the JSON payload
};

// nullopt when malformed (see above), including a payload nested deeper
// than the limit.
std::optional<Packet> decode(std::string_view text, const DecodeLimits& limits);

// True when every binary placeholder ({"_placeholder":true,"num":N}) in
// `data` names an attachment that exists (N < attachments).
bool placeholders_valid(const rapidjson::Value& data, std::size_t attachments);

// The wire text of a packet; `data_json` is already-serialised JSON (or
// empty for none).
std::string encode(PacketType type, std::string_view nsp, std::optional<std::uint32_t> id,
                   std::string_view data_json, std::size_t attachments = 0);

}  // namespace parley::socketio
