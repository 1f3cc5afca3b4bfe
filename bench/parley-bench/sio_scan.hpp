// Just enough parsing of Socket.IO packets and JSON to drive a load
// generator: the packet header (type, namespace, ack id), an event's name,
// and the raw text of chosen members of a JSON object, without building a
// document per message.
//
// The scanner is exact about JSON structure (strings with escapes, nested
// containers) so a member is never found inside a string or a nested
// value, but it does not validate what it skips beyond that and returns
// string values raw (still escaped, without the quotes). It never recurses,
// and nesting deeper than kMaxScanDepth is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::bench {

inline constexpr std::size_t kMaxScanDepth = 64;

// A Socket.IO packet (the text after the Engine.IO message type '4').
struct SioPacket {
  char type = '0';       // '0' connect ... '6' binary ack
  std::string_view nsp;  // empty for the main namespace
  std::optional<std::uint32_t> id;
  std::string_view data;  // the JSON after the header, possibly empty
};

std::optional<SioPacket> parse_sio_packet(std::string_view text);

// An event's data `["name",arg,...]`: the name (raw) and the first argument
// (raw JSON text, empty when there is none).
struct EventView {
  std::string_view name;
  std::string_view first_arg;
};
std::optional<EventView> parse_event(std::string_view data);

// The position just past the JSON value starting at `pos` (after optional
// whitespace), or npos when the text is malformed or nested too deeply.
std::size_t skip_json_value(std::string_view json, std::size_t pos);

// Calls `visit(key, value)` for each member of the JSON object that starts
// `object` (after optional whitespace), with the raw key (no quotes) and the
// raw value (a string value without its quotes). Stops when `visit` returns
// false. Returns false on malformed input.
template <class Visit>
bool for_each_member(std::string_view object, Visit&& visit);

// The raw value of member `key` of the JSON object `object` (see above).
std::optional<std::string_view> find_member(std::string_view object, std::string_view key);

// Parses a decimal unsigned integer that is the whole of `text`.
std::optional<std::uint64_t> parse_u64(std::string_view text);

namespace detail {
std::size_t skip_ws(std::string_view s, std::size_t pos);
// Past the closing quote of the string whose opening quote is at `pos`.
std::size_t skip_string(std::string_view s, std::size_t pos);
}  // namespace detail

template <class Visit>
bool for_each_member(std::string_view object, Visit&& visit) {
  constexpr auto npos = std::string_view::npos;
  std::size_t i = detail::skip_ws(object, 0);
  if (i >= object.size() || object[i] != '{') return false;
  i = detail::skip_ws(object, i + 1);
  if (i < object.size() && object[i] == '}') return true;
  for (;;) {
    if (i >= object.size() || object[i] != '"') return false;
    const std::size_t key_end = detail::skip_string(object, i);
    if (key_end == npos) return false;
    const std::string_view key = object.substr(i + 1, key_end - i - 2);
    i = detail::skip_ws(object, key_end);
    if (i >= object.size() || object[i] != ':') return false;
    const std::size_t value_start = detail::skip_ws(object, i + 1);
    const std::size_t value_end = skip_json_value(object, value_start);
    if (value_end == npos) return false;
    std::string_view value = object.substr(value_start, value_end - value_start);
    if (value.front() == '"') value = value.substr(1, value.size() - 2);
    if (!visit(key, value)) return true;
    i = detail::skip_ws(object, value_end);
    if (i >= object.size()) return false;
    if (object[i] == '}') return true;
    if (object[i] != ',') return false;
    i = detail::skip_ws(object, i + 1);
  }
}

}  // namespace parley::bench
