#include "engineio/codec.hpp"

#include <array>
#include <cstdint>

#include "core/base64.hpp"

namespace parley::engineio {

namespace {

bool valid_type(char c) {
  return c >= '0' && c <= '6';
}

}  // namespace

std::optional<Packet> decode_text(std::string_view text) {
  if (text.empty() || !valid_type(text[0])) return std::nullopt;
  Packet p;
  p.type = static_cast<PacketType>(text[0]);
  p.data.assign(text.substr(1));
  return p;
}

Packet decode_binary(std::string_view bytes) {
  Packet p;
  p.type = PacketType::message;
  p.data.assign(bytes);
  p.binary = true;
  return p;
}

std::string encode_text(const Packet& p) {
  std::string out;
  out.reserve(p.data.size() + 1);
  out += static_cast<char>(p.type);
  out += p.data;
  return out;
}

std::optional<std::vector<Packet>> decode_payload(std::string_view body, std::size_t max_packets) {
  std::vector<Packet> out;
  if (body.empty()) return std::nullopt;
  std::size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find(kRecordSeparator, start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view part = body.substr(start, end - start);
    if (out.size() >= max_packets) return std::nullopt;
    if (!part.empty() && part[0] == 'b') {
      auto bytes = core::base64_decode(part.substr(1));
      if (!bytes) return std::nullopt;
      Packet p;
      p.type = PacketType::message;
      p.data = std::move(*bytes);
      p.binary = true;
      out.push_back(std::move(p));
    } else {
      auto p = decode_text(part);
      if (!p) return std::nullopt;
      out.push_back(std::move(*p));
    }
    start = end + 1;
  }
  return out;
}

std::string encode_payload(const std::vector<Packet>& packets) {
  std::string out;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (i > 0) out += kRecordSeparator;
    if (packets[i].binary) {
      out += 'b';
      out += core::base64_encode(packets[i].data);
    } else {
      out += encode_text(packets[i]);
    }
  }
  return out;
}

}  // namespace parley::engineio
