// libFuzzer target: the Engine.IO codec (polling payloads, text packets,
// base64) must never crash or hang on any input, and what it decodes must
// survive a round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base64.hpp"
#include "engineio/codec.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace eio = parley::engineio;
  using parley::fuzz::check;
  constexpr std::size_t kMaxPackets = 64;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto packets = eio::decode_payload(input, kMaxPackets);
  parley::fuzz::expect_accepted(packets.has_value(), "engineio::decode_payload");
  if (packets) {
    check(packets->size() <= kMaxPackets, "packet count within the limit");
    const std::string encoded = eio::encode_payload(*packets);
    auto again = eio::decode_payload(encoded, kMaxPackets);
    check(again && again->size() == packets->size(), "re-encoded payload decodes");
    for (std::size_t i = 0; i < packets->size(); ++i) {
      check((*again)[i].data == (*packets)[i].data && (*again)[i].type == (*packets)[i].type &&
                (*again)[i].binary == (*packets)[i].binary,
            "payload round trip keeps every packet");
    }
  }
  if (auto p = eio::decode_text(input)) {
    check(eio::encode_text(*p) == input, "text packet round trip");
  }
  if (auto bytes = parley::core::base64_decode(input)) {
    auto back = parley::core::base64_decode(parley::core::base64_encode(*bytes));
    check(back && *back == *bytes, "base64 round trip");
  }
  return 0;
}
