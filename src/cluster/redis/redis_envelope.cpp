#include "cluster/redis/redis_envelope.hpp"

#include <iterator>
#include <random>

#include <fmt/format.h>

namespace parley::cluster {

std::uint64_t random_node_id() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::string wrap_publication(std::uint64_t node_id, std::string_view payload) {
  std::string out;
  out.reserve(kEnvelopeHeaderBytes + payload.size());
  fmt::format_to(std::back_inserter(out), "{:016x} ", node_id);
  out.append(payload);
  return out;
}

std::optional<Publication> unwrap_publication(std::string_view message) {
  if (message.size() < kEnvelopeHeaderBytes || message[kEnvelopeHeaderBytes - 1] != ' ') {
    return std::nullopt;
  }
  std::uint64_t id = 0;
  for (std::size_t i = 0; i + 1 < kEnvelopeHeaderBytes; ++i) {
    const char c = message[i];
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    id = (id << 4) | digit;
  }
  return Publication{id, message.substr(kEnvelopeHeaderBytes)};
}

}  // namespace parley::cluster
