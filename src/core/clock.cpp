#include "core/clock.hpp"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace parley::core {

namespace chr = std::chrono;

EpochMs now_ms() {
  return chr::duration_cast<chr::milliseconds>(chr::system_clock::now().time_since_epoch()).count();
}

std::string to_iso8601(EpochMs ms) {
  const chr::sys_time<chr::milliseconds> tp{chr::milliseconds{ms}};
  const auto day = chr::floor<chr::days>(tp);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{tp - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

std::optional<EpochMs> parse_iso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != '.' || s[23] != 'Z') {
    return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;  // from_chars would take a sign
    }
    const char* first = s.data() + pos;
    auto [ptr, ec] = std::from_chars(first, first + len, out);
    return ec == std::errc{} && ptr == first + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, milli = 0;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
      !num(17, 2, sec) || !num(20, 3, milli)) {
    return std::nullopt;
  }
  const chr::year_month_day ymd{chr::year{y}, chr::month{static_cast<unsigned>(mo)},
                                chr::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const auto tp = chr::sys_days{ymd} + chr::hours{h} + chr::minutes{mi} + chr::seconds{sec} +
                  chr::milliseconds{milli};
  return chr::duration_cast<chr::milliseconds>(tp.time_since_epoch()).count();
}

}  // namespace parley::core
