// libFuzzer target: the Engine.IO codec (polling payloads, text packets,
// base64) must never crash or hang on any input, and what it decodes must
// survive a round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/base64.hpp"
#include "engineio/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  namespace eio = parley::engineio;
  if (auto packets = eio::decode_payload(input, 64)) {
    const std::string encoded = eio::encode_payload(*packets);
    auto again = eio::decode_payload(encoded, 64);
    if (!again || again->size() != packets->size()) std::abort();
    for (std::size_t i = 0; i < packets->size(); ++i) {
      if ((*again)[i].data != (*packets)[i].data || (*again)[i].type != (*packets)[i].type) {
        std::abort();
      }
    }
  }
  if (auto p = eio::decode_text(input)) {
    if (eio::encode_text(*p) != input) std::abort();
  }
  if (auto bytes = parley::core::base64_decode(input)) {
    auto back = parley::core::base64_decode(parley::core::base64_encode(*bytes));
    if (!back || *back != *bytes) std::abort();
  }
  return 0;
}
