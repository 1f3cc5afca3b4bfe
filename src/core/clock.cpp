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
  // Hot path (every timestamp of every JSON answer): digits by hand, no
  // format-string parsing. Civil date from days: Howard Hinnant's algorithm.
  std::int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
  std::int64_t rem = ms - days * 86400000;  // 0 <= rem < 86400000
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) {
    const chr::sys_time<chr::milliseconds> tp{chr::milliseconds{ms}};
    const auto day = chr::floor<chr::days>(tp);
    const chr::year_month_day ymd{day};
    const chr::hh_mm_ss hms{tp - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                       hms.subseconds().count());
  }
  const auto milli = static_cast<unsigned>(rem % 1000);
  rem /= 1000;
  const auto sec = static_cast<unsigned>(rem % 60);
  rem /= 60;
  const auto min = static_cast<unsigned>(rem % 60);
  const auto hour = static_cast<unsigned>(rem / 60);
  char out[24] = {'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0',
                  '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', 'Z'};
  auto put = [&out](std::size_t pos, unsigned value, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
      out[pos + width - 1 - i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, static_cast<unsigned>(y), 4);
  put(5, m, 2);
  put(8, d, 2);
  put(11, hour, 2);
  put(14, min, 2);
  put(17, sec, 2);
  put(20, milli, 3);
  return std::string(out, sizeof out);
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
