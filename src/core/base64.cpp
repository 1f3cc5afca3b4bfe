#include "core/base64.hpp"

#include <array>
#include <cstdint>

namespace parley::core {

namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::uint8_t kNotBase64 = 0xFF;

constexpr std::array<std::uint8_t, 256> make_table(const char* alphabet) {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kNotBase64;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}
constexpr auto kStandardTable = make_table(kStandard);
constexpr auto kUrlTable = make_table(kUrl);

}  // namespace

std::string base64_encode(std::string_view bytes, Base64 alphabet) {
  const char* chars = alphabet == Base64::url ? kUrl : kStandard;
  const bool pad = alphabet == Base64::standard;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16U) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8U) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += chars[(n >> 18U) & 63U];
    out += chars[(n >> 12U) & 63U];
    out += chars[(n >> 6U) & 63U];
    out += chars[n & 63U];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16U;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8U;
    out += chars[(n >> 18U) & 63U];
    out += chars[(n >> 12U) & 63U];
    if (rest == 2)
      out += chars[(n >> 6U) & 63U];
    else if (pad)
      out += '=';
    if (pad) out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64 alphabet) {
  const auto& table = alphabet == Base64::url ? kUrlTable : kStandardTable;
  if (alphabet == Base64::standard) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    const std::uint8_t v = table[static_cast<unsigned char>(c)];
    if (v == kNotBase64) return std::nullopt;
    acc = (acc << 6U) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU);
    }
  }
  // Left-over bits (2 or 4) must be zero for the canonical spelling.
  if (alphabet == Base64::url && (acc & ((1U << static_cast<unsigned>(bits)) - 1U)) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace parley::core
