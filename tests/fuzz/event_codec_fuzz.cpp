// libFuzzer target: the chat events as broker payloads (chat/event_codec),
// which with several nodes arrive from the network (Redis). Nothing may
// crash or read past the payload; what a decoder accepts survives encoding
// again: encode(decode(x)) decodes to what encodes the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/delivered_cursors.hpp"
#include "chat/delivery.hpp"
#include "chat/event_codec.hpp"
#include "fuzz_support.hpp"

namespace {

namespace chat = parley::chat;
using parley::fuzz::check;
using parley::fuzz::expect_accepted;

// Decodes `payload` with `decode`; if accepted, the value's encoding must
// decode and encode to itself.
template <typename Decode>
bool round_trips(std::string_view payload, Decode decode) {
  const auto first = decode(payload);
  if (!first) return false;
  const std::string once = chat::encode(*first);
  const auto second = decode(once);
  check(second.has_value(), "an encoded event decodes");
  check(chat::encode(*second) == once, "encoding is stable");
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const auto kind = chat::event_kind(payload);
  bool accepted = false;
  accepted |= round_trips(payload, [](std::string_view p) { return chat::decode_committed(p); });
  accepted |= round_trips(payload, [](std::string_view p) { return chat::decode_delivered(p); });
  accepted |= round_trips(payload, [](std::string_view p) { return chat::decode_read(p); });
  accepted |= round_trips(payload, [](std::string_view p) { return chat::decode_group_update(p); });
  check(!accepted || kind.has_value(), "an accepted payload has a kind");
  expect_accepted(accepted, "event codec");
  return 0;
}
