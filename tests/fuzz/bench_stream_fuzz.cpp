// libFuzzer target: what parley-bench reads from a server. Bytes arrive in
// chunks of any size (fuzz_support's for_each_chunk) and go through the
// WebSocket reader, then the Socket.IO and JSON member scanners. Nothing
// may crash or read out of bounds; the messages must not depend on how the
// bytes were split; and wherever RapidJSON parses an object, the scanner
// must find the same members.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/reader.h>

#include "fuzz_support.hpp"
#include "parley-bench/sio_scan.hpp"
#include "parley-bench/ws_frame.hpp"

namespace {

namespace pb = parley::bench;
using parley::fuzz::check;

constexpr std::size_t kMaxMessage = 1 << 16;

struct Outcome {
  std::vector<std::string> events;  // kind and payload of each event
  bool invalid = false;
};

// Feeds `chunks` to a reader as successive socket reads.
Outcome read_stream(const std::vector<std::string_view>& chunks) {
  Outcome out;
  pb::WsReader reader(kMaxMessage);
  std::string buffer;
  for (std::string_view chunk : chunks) {
    buffer.append(chunk);
    for (;;) {
      std::size_t consumed = 0;
      pb::WsEvent ev;
      const pb::ReadStatus st = reader.next(buffer, consumed, ev);
      check(consumed <= buffer.size(), "consumed within the input");
      if (st == pb::ReadStatus::invalid) {
        out.invalid = true;
        return out;
      }
      if (st == pb::ReadStatus::need_more) {
        check(reader.needed() > buffer.size() - consumed, "need_more only when short of a frame");
        buffer.erase(0, consumed);
        break;
      }
      check(ev.payload.size() <= kMaxMessage, "messages within the limit");
      out.events.push_back(std::to_string(static_cast<int>(ev.kind)) + (ev.binary ? "b:" : "t:") +
                           std::string(ev.payload));
      buffer.erase(0, consumed);
    }
  }
  return out;
}

// The scanner against RapidJSON on the JSON object at the start of `text`.
void compare_members(std::string_view text) {
  std::vector<std::pair<std::string_view, std::string_view>> members;
  const bool scanned = pb::for_each_member(text, [&](std::string_view k, std::string_view v) {
    check(k.data() >= text.data() && k.data() + k.size() <= text.data() + text.size(),
          "keys inside the text");
    check(v.data() >= text.data() && v.data() + v.size() <= text.data() + text.size(),
          "values inside the text");
    members.emplace_back(k, v);
    return true;
  });
  const std::string copy(text);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag>(copy.c_str(),
                                                                                copy.size());
  if (doc.HasParseError() || !doc.IsObject()) return;
  // RapidJSON lets a stray byte before the object pass (the fuzzer found
  // 0xBB); that is no JSON, and the scanner owes it nothing.
  const auto first = copy.find_first_not_of(" \t\n\r");
  if (first == std::string::npos || copy[first] != '{') return;
  if (parley::fuzz::json_depth(doc) > pb::kMaxScanDepth) return;
  check(scanned, "an object RapidJSON parses is scanned");
  check(members.size() == doc.MemberCount(), "as many members as RapidJSON finds");
  std::size_t i = 0;
  for (const auto& m : doc.GetObject()) {
    const auto [key, value] = members[i++];
    if (key.find('\\') == std::string_view::npos) {
      check(key == std::string_view(m.name.GetString(), m.name.GetStringLength()), "same keys");
    }
    if (m.value.IsString() && value.find('\\') == std::string_view::npos) {
      check(value == std::string_view(m.value.GetString(), m.value.GetStringLength()),
            "same string values");
    }
  }
}

void scan_message(std::string_view text) {
  compare_members(text);
  if (text.empty() || text[0] != '4') return;
  const auto packet = pb::parse_sio_packet(text.substr(1));
  if (!packet) return;
  check(packet->data.data() + packet->data.size() == text.data() + text.size(),
        "packet data ends the text");
  compare_members(packet->data);
  const auto event = pb::parse_event(packet->data);
  if (!event) {
    // An ack: its first element.
    if (!packet->data.empty() && packet->data[0] == '[') compare_members(packet->data.substr(1));
    return;
  }
  compare_members(event->first_arg);
  if (const auto message = pb::find_member(event->first_arg, "message")) {
    compare_members(*message);
    if (const auto id = pb::find_member(*message, "_id")) (void)pb::parse_u64(*id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string_view> chunks;
  std::string whole;
  parley::fuzz::for_each_chunk(data, size, [&](std::string_view c) {
    chunks.push_back(c);
    whole.append(c);
  });
  const Outcome split = read_stream(chunks);
  parley::fuzz::expect_accepted(!split.invalid && !split.events.empty(), "WsReader");
  const Outcome at_once = read_stream({std::string_view(whole)});
  check(split.invalid == at_once.invalid, "validity does not depend on the split");
  if (!split.invalid) check(split.events == at_once.events, "messages do not depend on the split");
  for (const std::string& e : at_once.events) {
    const auto colon = e.find(':');
    if (e[colon - 1] == 't') scan_message(std::string_view(e).substr(colon + 1));
  }
  return 0;
}
