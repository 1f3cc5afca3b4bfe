// libFuzzer target: the Socket.IO packet decoder must never crash, must
// respect its attachment and depth bounds, and what it accepts must
// re-encode into a packet it accepts again with the same header and equal
// JSON data.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "fuzz_support.hpp"
#include "socketio/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sio = parley::socketio;
  using parley::fuzz::check;
  constexpr sio::DecodeLimits kLimits{10, 64};
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto p = sio::decode(input, kLimits);
  parley::fuzz::expect_accepted(p.has_value(), "socketio::decode");
  if (!p) return 0;
  check(p->attachments <= kLimits.max_attachments, "attachments within the limit");
  check(!p->has_data || parley::fuzz::json_depth(p->data) <= kLimits.max_json_depth,
        "data nested within the depth limit");
  std::string json;
  if (p->has_data) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    check(p->data.Accept(w), "decoded data serialises");
    json.assign(buf.GetString(), buf.GetSize());
  }
  const bool placeholders = sio::placeholders_valid(p->data, p->attachments);
  const std::string again_text = sio::encode(p->type, p->nsp, p->id, json, p->attachments);
  auto again = sio::decode(again_text, kLimits);
  check(again.has_value(), "re-encoded packet decodes");
  check(again->type == p->type && again->nsp == p->nsp && again->id == p->id &&
            again->attachments == p->attachments && again->has_data == p->has_data,
        "round trip keeps the header");
  check(parley::fuzz::json_equal(again->data, p->data), "round trip keeps the data");
  check(sio::placeholders_valid(again->data, again->attachments) == placeholders,
        "round trip keeps placeholder validity");
  return 0;
}
