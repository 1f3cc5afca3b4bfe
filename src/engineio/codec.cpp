#include "engineio/codec.hpp"

#include <array>
#include <cstdint>

namespace parley::engineio {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t kNotB64 = 0xFF;

constexpr std::array<std::uint8_t, 256> make_b64_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kNotB64;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(kB64[i])] = static_cast<std::uint8_t>(i);
  return t;
}
constexpr auto kB64Table = make_b64_table();

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
      auto bytes = base64_decode(part.substr(1));
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
      out += base64_encode(packets[i].data);
    } else {
      out += encode_text(packets[i]);
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16U) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8U) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += kB64[(n >> 18U) & 63U];
    out += kB64[(n >> 12U) & 63U];
    out += kB64[(n >> 6U) & 63U];
    out += kB64[n & 63U];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16U;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8U;
    out += kB64[(n >> 18U) & 63U];
    out += kB64[(n >> 12U) & 63U];
    out += rest == 2 ? kB64[(n >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    const std::uint8_t v = kB64Table[static_cast<unsigned char>(c)];
    if (v == kNotB64) return std::nullopt;
    acc = (acc << 6U) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU);
    }
  }
  return out;
}

}  // namespace parley::engineio
