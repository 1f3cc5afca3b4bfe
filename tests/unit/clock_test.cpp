#include "core/clock.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include <string>

#include <gtest/gtest.h>

namespace parley::core {
namespace {

TEST(ToIso8601, KnownEpochs) {
  EXPECT_EQ(to_iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(to_iso8601(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(to_iso8601(999), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(to_iso8601(1000), "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(to_iso8601(86'399'999), "1970-01-01T23:59:59.999Z");
  EXPECT_EQ(to_iso8601(86'400'000), "1970-01-02T00:00:00.000Z");
  EXPECT_EQ(to_iso8601(1'700'000'000'000), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(to_iso8601(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(to_iso8601(1'795'428'000'000), "2026-11-23T10:00:00.000Z");
  EXPECT_EQ(to_iso8601(951'868'799'000), "2000-02-29T23:59:59.000Z");    // leap day
  EXPECT_EQ(to_iso8601(2'147'483'648'000), "2038-01-19T03:14:08.000Z");  // past 2^31 s
  EXPECT_EQ(to_iso8601(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
}

TEST(ToIso8601, BeforeTheEpoch) {
  EXPECT_EQ(to_iso8601(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(to_iso8601(-1000), "1969-12-31T23:59:59.000Z");
}

TEST(ParseIso8601, KnownStrings) {
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00.001Z"), 1);
  EXPECT_EQ(parse_iso8601("2023-11-14T22:13:20.123Z"), 1'700'000'000'123);
  EXPECT_EQ(parse_iso8601("2026-11-23T10:00:00.000Z"), 1'795'428'000'000);
  EXPECT_EQ(parse_iso8601("2000-02-29T23:59:59.000Z"), 951'868'799'000);
  EXPECT_EQ(parse_iso8601("1969-12-31T23:59:59.999Z"), -1);
}

TEST(ParseIso8601, RoundTrips) {
  for (EpochMs ms :
       {EpochMs{0}, EpochMs{1}, EpochMs{999}, EpochMs{-1}, EpochMs{86'400'000},
        EpochMs{951'868'799'000}, EpochMs{1'700'000'000'123}, EpochMs{2'147'483'648'000},
        EpochMs{4'102'444'800'000}, EpochMs{253'402'300'799'999}}) {
    EXPECT_EQ(parse_iso8601(to_iso8601(ms)), ms) << to_iso8601(ms);
  }
  for (EpochMs ms = 1'700'000'000'000; ms < 1'700'000'000'000 + 86'400'000 * 400LL;
       ms += 7'777'777'777) {
    EXPECT_EQ(parse_iso8601(to_iso8601(ms)), ms);
  }
  const EpochMs now = now_ms();
  EXPECT_EQ(parse_iso8601(to_iso8601(now)), now);
}

TEST(ParseIso8601, RejectsOtherShapes) {
  for (const char* bad :
       {"", "2023-11-14",
        "2023-11-14T22:13:20Z",       // no milliseconds
        "2023-11-14T22:13:20.12Z",    // two digits
        "2023-11-14T22:13:20.1234Z",  // four digits
        "2023-11-14T22:13:20.123",    // no Z
        "2023-11-14T22:13:20.123+00:00",
        "2023-11-14 22:13:20.123Z",  // space for T
        "2023-11-14t22:13:20.123Z", "2023-11-14T22:13:20.123z", "2023/11/14T22:13:20.123Z",
        "2023-11-14T22-13-20.123Z", "2023-11-14T22:13:20,123Z", " 2023-11-14T22:13:20.123Z",
        "2023-11-14T22:13:20.123Z "}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(ParseIso8601, RejectsOutOfRangeFields) {
  for (const char* bad :
       {"2023-13-01T00:00:00.000Z", "2023-00-01T00:00:00.000Z", "2023-01-00T00:00:00.000Z",
        "2023-01-32T00:00:00.000Z",
        "2023-02-29T00:00:00.000Z",  // not a leap year
        "1900-02-29T00:00:00.000Z", "2023-04-31T00:00:00.000Z", "2023-01-01T24:00:00.000Z",
        "2023-01-01T00:60:00.000Z", "2023-01-01T00:00:60.000Z"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parse_iso8601("2024-02-29T00:00:00.000Z").has_value());
}

TEST(ParseIso8601, RejectsNonDigits) {
  for (const char* bad :
       {"2O23-11-14T22:13:20.123Z", "2023-1a-14T22:13:20.123Z", "2023-11-14T2x:13:20.123Z",
        "2023-11-14T22:13:20.12aZ", "2023-11-14T22:13:2 .123Z", "+023-11-14T22:13:20.123Z"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
}

// to_iso8601 never writes a sign inside a time-of-day field, so
// parse_iso8601 (which "parses exactly the form to_iso8601 writes") must not
// accept one. ("-001" is how it writes a negative year, so that one stays.)
TEST(ParseIso8601, RejectsSignsInsideFields) {
  for (const char* bad :
       {"2023-11-14T-1:13:20.123Z", "2023-11-14T22:-1:20.123Z", "2023-11-14T22:13:-1.123Z",
        "2023-11-14T22:13:20.-01Z", "2023--1-14T22:13:20.123Z", "2023-11--1T22:13:20.123Z"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace parley::core

namespace parley::core {
namespace {

// The hand-written formatter against std::chrono's civil calendar.
TEST(ToIso8601, MatchesChronoAcrossTheRange) {
  namespace chr = std::chrono;
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13U;
    x ^= x >> 7U;
    x ^= x << 17U;
    const auto ms = static_cast<EpochMs>(x % 253402300800000ULL);  // up to 9999-12-31
    const chr::sys_time<chr::milliseconds> tp{chr::milliseconds{ms}};
    const auto day = chr::floor<chr::days>(tp);
    const chr::year_month_day ymd{day};
    const chr::hh_mm_ss hms{tp - day};
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02u-%02u%c%02d:%02d:%02d.%03dZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), 'T', static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    ASSERT_EQ(to_iso8601(ms), expected) << ms;
  }
}

}  // namespace
}  // namespace parley::core
