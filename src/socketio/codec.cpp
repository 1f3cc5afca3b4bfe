#include "socketio/codec.hpp"

#include <charconv>

#include <fmt/format.h>

#include "core/json.hpp"

namespace parley::socketio {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool payload_valid(PacketType type, const Packet& p) {
  switch (type) {
    case PacketType::connect: return !p.has_data || p.data.IsObject();
    case PacketType::disconnect: return !p.has_data;
    case PacketType::connect_error: return p.has_data && (p.data.IsObject() || p.data.IsString());
    case PacketType::event:
    case PacketType::binary_event:
      return p.has_data && p.data.IsArray() && !p.data.Empty() &&
             (p.data[0].IsString() || p.data[0].IsNumber());
    case PacketType::ack:
    case PacketType::binary_ack: return p.has_data && p.data.IsArray();
  }
  return false;
}

}  // namespace

std::optional<Packet> decode(std::string_view text, const DecodeLimits& limits) {
  if (text.empty() || text[0] < '0' || text[0] > '6') return std::nullopt;
  Packet p;
  p.type = static_cast<PacketType>(text[0]);
  std::size_t i = 1;
  const bool binary = p.type == PacketType::binary_event || p.type == PacketType::binary_ack;
  if (binary) {
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == start || i >= text.size() || text[i] != '-' || i - start > 6) return std::nullopt;
    std::size_t n = 0;
    std::from_chars(text.data() + start, text.data() + i, n);
    if (n > limits.max_attachments) return std::nullopt;
    p.attachments = n;
    ++i;  // '-'
  }
  if (i < text.size() && text[i] == '/') {
    const auto comma = text.find(',', i);
    if (comma == std::string_view::npos) {
      p.nsp.assign(text.substr(i));
      i = text.size();
    } else {
      p.nsp.assign(text.substr(i, comma - i));
      i = comma + 1;
    }
  }
  if (i < text.size() && is_digit(text[i])) {
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i - start > 10) return std::nullopt;
    std::uint64_t id = 0;
    std::from_chars(text.data() + start, text.data() + i, id);
    if (id > kMaxAckId) return std::nullopt;
    p.id = static_cast<std::uint32_t>(id);
  }
  if (i < text.size()) {
    const std::string_view json = text.substr(i);
    if (core::parse_json(p.data, json, limits.max_json_depth) != core::JsonParseError::none) {
      return std::nullopt;
    }
    p.has_data = true;
  }
  if (!payload_valid(p.type, p)) return std::nullopt;
  if ((p.type == PacketType::ack || p.type == PacketType::binary_ack) && !p.id) return std::nullopt;
  return p;
}

bool placeholders_valid(const rapidjson::Value& data, std::size_t attachments) {
  if (data.IsArray()) {
    for (const auto& v : data.GetArray()) {
      if (!placeholders_valid(v, attachments)) return false;
    }
    return true;
  }
  if (!data.IsObject()) return true;
  const auto ph = data.FindMember("_placeholder");
  if (ph != data.MemberEnd() && ph->value.IsBool() && ph->value.GetBool()) {
    const auto num = data.FindMember("num");
    return num != data.MemberEnd() && num->value.IsUint() && num->value.GetUint() < attachments;
  }
  for (const auto& m : data.GetObject()) {
    if (!placeholders_valid(m.value, attachments)) return false;
  }
  return true;
}

std::string encode(PacketType type, std::string_view nsp, std::optional<std::uint32_t> id,
                   std::string_view data_json, std::size_t attachments) {
  std::string out;
  out.reserve(data_json.size() + nsp.size() + 16);
  out += static_cast<char>(type);
  if (type == PacketType::binary_event || type == PacketType::binary_ack) {
    out += fmt::format("{}-", attachments);
  }
  if (!nsp.empty() && nsp != "/") {
    out += nsp;
    out += ',';
  }
  if (id) out += fmt::format("{}", *id);
  out += data_json;
  return out;
}

}  // namespace parley::socketio
