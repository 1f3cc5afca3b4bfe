#include "core/object_id.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

namespace parley::core {

namespace {

struct ProcessPart {
  std::array<std::uint8_t, 5> random{};
  std::atomic<std::uint32_t> counter{0};
  ProcessPart() {
    std::random_device rd;
    for (auto& b : random) b = static_cast<std::uint8_t>(rd());
    counter.store(rd() & 0xffffffU);
  }
};

ProcessPart& process_part() {
  static ProcessPart part;
  return part;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string new_object_id() {
  auto& part = process_part();
  const auto seconds =
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const std::uint32_t count = part.counter.fetch_add(1, std::memory_order_relaxed) & 0xffffffU;
  std::array<std::uint8_t, 12> bytes{};
  bytes[0] = static_cast<std::uint8_t>(seconds >> 24);
  bytes[1] = static_cast<std::uint8_t>(seconds >> 16);
  bytes[2] = static_cast<std::uint8_t>(seconds >> 8);
  bytes[3] = static_cast<std::uint8_t>(seconds);
  for (std::size_t i = 0; i < 5; ++i) bytes[4 + i] = part.random[i];
  bytes[9] = static_cast<std::uint8_t>(count >> 16);
  bytes[10] = static_cast<std::uint8_t>(count >> 8);
  bytes[11] = static_cast<std::uint8_t>(count);
  std::string out(24, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

bool is_object_id(std::string_view text) {
  if (text.size() != 24) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace parley::core
