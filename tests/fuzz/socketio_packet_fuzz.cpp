// libFuzzer target: the Socket.IO packet decoder must never crash, must
// respect its attachment bound, and what it accepts must re-encode into a
// packet it accepts again with the same header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "socketio/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sio = parley::socketio;
  constexpr std::size_t kMaxAttachments = 10;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto p = sio::decode(input, {kMaxAttachments, 64});
  if (!p) return 0;
  if (p->attachments > kMaxAttachments) std::abort();
  std::string json;
  if (p->has_data) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    p->data.Accept(w);
    json.assign(buf.GetString(), buf.GetSize());
  }
  (void)sio::placeholders_valid(p->data, p->attachments);
  const std::string again_text = sio::encode(p->type, p->nsp, p->id, json, p->attachments);
  auto again = sio::decode(again_text, {kMaxAttachments, 64});
  if (!again || again->type != p->type || again->nsp != p->nsp || again->id != p->id ||
      again->attachments != p->attachments) {
    std::abort();
  }
  return 0;
}
