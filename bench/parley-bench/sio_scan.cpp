#include "parley-bench/sio_scan.hpp"

#include <array>
#include <charconv>
#include <cstring>

namespace parley::bench {
namespace {

constexpr auto npos = std::string_view::npos;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Past a number or a literal (true, false, null): up to the next delimiter.
std::size_t skip_scalar(std::string_view s, std::size_t pos) {
  std::size_t i = pos;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r') break;
    if (c == '"' || c == '{' || c == '[' || c == ':') return npos;
    ++i;
  }
  return i == pos ? npos : i;
}

}  // namespace

namespace detail {

std::size_t skip_ws(std::string_view s, std::size_t pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) {
    ++pos;
  }
  return pos;
}

std::size_t skip_string(std::string_view s, std::size_t pos) {
  std::size_t i = pos + 1;
  for (;;) {
    // The next quote or backslash, whichever comes first.
    const void* q = std::memchr(s.data() + i, '"', s.size() - i);
    if (q == nullptr) return npos;
    const auto quote = static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
    const void* b = std::memchr(s.data() + i, '\\', quote - i);
    if (b == nullptr) return quote + 1;
    // An escape: skip the backslash and the character it escapes.
    i = static_cast<std::size_t>(static_cast<const char*>(b) - s.data()) + 2;
    if (i > s.size()) return npos;
  }
}

}  // namespace detail

std::size_t skip_json_value(std::string_view s, std::size_t pos) {
  std::size_t i = detail::skip_ws(s, pos);
  if (i >= s.size()) return npos;
  if (s[i] == '"') return detail::skip_string(s, i);
  if (s[i] != '{' && s[i] != '[') return skip_scalar(s, i);
  // A container: count depth, stepping over strings whole. Structure
  // inside is not checked beyond the brackets matching in kind.
  std::array<char, kMaxScanDepth> stack{};
  std::size_t depth = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      i = detail::skip_string(s, i);
      if (i == npos) return npos;
      continue;
    }
    if (c == '{' || c == '[') {
      if (depth == kMaxScanDepth) return npos;
      stack[depth++] = c == '{' ? '}' : ']';
    } else if (c == '}' || c == ']') {
      if (depth == 0 || stack[depth - 1] != c) return npos;
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return npos;
}

std::optional<std::string_view> find_member(std::string_view object, std::string_view key) {
  std::optional<std::string_view> found;
  const bool ok = for_each_member(object, [&](std::string_view k, std::string_view v) {
    if (k != key) return true;
    found = v;
    return false;
  });
  if (!ok) return std::nullopt;
  return found;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<SioPacket> parse_sio_packet(std::string_view text) {
  if (text.empty() || text[0] < '0' || text[0] > '6') return std::nullopt;
  SioPacket p;
  p.type = text[0];
  std::size_t i = 1;
  if (p.type == '5' || p.type == '6') {
    // Binary packets carry an attachment count and '-': skipped, never used here.
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i >= text.size() || text[i] != '-') return std::nullopt;
    ++i;
  }
  if (i < text.size() && text[i] == '/') {
    const std::size_t comma = text.find(',', i);
    if (comma == npos) {
      p.nsp = text.substr(i);
      p.data = text.substr(text.size());
      return p;
    }
    p.nsp = text.substr(i, comma - i);
    i = comma + 1;
  }
  const std::size_t digits = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i > digits) {
    const auto id = parse_u64(text.substr(digits, i - digits));
    if (!id || *id > 0xffffffffU) return std::nullopt;
    p.id = static_cast<std::uint32_t>(*id);
  }
  p.data = text.substr(i);
  return p;
}

std::optional<EventView> parse_event(std::string_view data) {
  std::size_t i = detail::skip_ws(data, 0);
  if (i >= data.size() || data[i] != '[') return std::nullopt;
  i = detail::skip_ws(data, i + 1);
  if (i >= data.size() || data[i] != '"') return std::nullopt;
  const std::size_t name_end = detail::skip_string(data, i);
  if (name_end == npos) return std::nullopt;
  EventView ev;
  ev.name = data.substr(i + 1, name_end - i - 2);
  i = detail::skip_ws(data, name_end);
  if (i >= data.size()) return std::nullopt;
  if (data[i] == ']') return ev;
  if (data[i] != ',') return std::nullopt;
  const std::size_t arg_start = detail::skip_ws(data, i + 1);
  const std::size_t arg_end = skip_json_value(data, arg_start);
  if (arg_end == npos) return std::nullopt;
  ev.first_arg = data.substr(arg_start, arg_end - arg_start);
  return ev;
}

}  // namespace parley::bench
