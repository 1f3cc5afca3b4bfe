// libFuzzer target: the WebSocket frame reader must never crash, read past
// its input, or hold more than the message limit, and it must read the same
// events whether the bytes arrive at once or cut anywhere (the cut is taken
// from the first input byte).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/ws_frames.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr std::size_t kMaxMessage = 4096;

struct Read {
  std::vector<parley::engineio::ws::ReadEvent> events;
  std::size_t used = 0;
};

Read read_in_two(std::string_view input, std::size_t cut) {
  parley::engineio::ws::FrameReader reader(kMaxMessage);
  Read r;
  std::string buffered(input.substr(0, cut));
  const std::size_t first = reader.feed(buffered, r.events);
  parley::fuzz::check(first <= buffered.size(), "consumes no more than it was given");
  buffered.erase(0, first);
  buffered.append(input.substr(cut));
  r.used = first + reader.feed(buffered, r.events);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ws = parley::engineio::ws;
  using parley::fuzz::check;
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);

  ws::FrameReader whole(kMaxMessage);
  std::vector<ws::ReadEvent> events;
  const std::size_t used = whole.feed(input, events);
  check(used <= input.size(), "consumes no more than it was given");
  parley::fuzz::expect_accepted(!events.empty() && events.back().kind != ws::ReadEvent::Kind::fail,
                                "ws::FrameReader");
  check(whole.wanted() <= kMaxMessage + 14, "never waits for more than a message and a header");
  for (const auto& e : events) {
    check(e.data.size() <= kMaxMessage, "no message over the limit");
  }

  const Read split = read_in_two(input, cut);
  check(split.used == used, "a cut changes nothing consumed");
  check(split.events.size() == events.size(), "a cut changes no event");
  for (std::size_t i = 0; i < events.size(); ++i) {
    check(split.events[i].kind == events[i].kind && split.events[i].data == events[i].data &&
              split.events[i].binary == events[i].binary && split.events[i].code == events[i].code,
          "a cut changes no event");
  }
  return 0;
}
