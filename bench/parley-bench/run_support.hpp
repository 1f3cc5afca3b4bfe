// What every mode's controlling thread shares: the failures workers
// report, the once-a-second progress line, the result JSON, and the
// server/generator CPU figures over the measured interval.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "parley-bench/accounts.hpp"
#include "parley-bench/endpoint.hpp"
#include "parley-bench/histogram.hpp"
#include "parley-bench/options.hpp"
#include "parley-bench/proc_stats.hpp"

namespace parley::bench {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Failures from any thread: all counted, the first few kept for the report.
class ErrorLog {
 public:
  static constexpr std::size_t kKept = 10;
  void add(std::string message);
  std::size_t count() const;
  std::vector<std::string> first() const;

 private:
  mutable std::mutex mutex_;
  std::size_t count_ = 0;
  std::vector<std::string> kept_;
};

// A line on stderr at most once a second (when enabled).
class Progress {
 public:
  explicit Progress(bool enabled);
  // True when a line is due; the caller then prints with line().
  bool due();
  void line(std::string_view text) const;
  double elapsed_s() const;

 private:
  bool enabled_;
  std::uint64_t start_ns_;
  std::uint64_t next_ns_;
};

// Starts the result object with the fields every mode has.
void begin_result(JsonWriter& w, const Options& o);
// `key`: {"p50","p90","p99","p999","max"} in milliseconds from nanoseconds.
void write_latency_ms(JsonWriter& w, std::string_view key, const Histogram& h);
// "server": {...} and "generator": {...}: CPU time over the interval
// [before, after], per unit handled in it (`per_unit_key`, for example
// "cpu_us_per_msg"), and the server's RSS; `extra_server` adds members to
// the server object.
struct CpuReport {
  CpuSample before;
  CpuSample after;
  std::uint64_t units = 0;
  std::string_view per_unit_key = "cpu_us_per_msg";
  std::optional<std::uint64_t> rss_before;
  std::optional<std::uint64_t> rss_after;
};
void write_cpu(JsonWriter& w, const Options& o, const CpuReport& r,
               const std::function<void(JsonWriter&)>& extra_server = {});
void write_errors(JsonWriter& w, const ErrorLog& errors);
// Prints the one JSON object on stdout.
void print_result(const rapidjson::StringBuffer& buffer);
// Ends every mode's result: `failures` and `errors`, closes the object,
// prints it and answers the exit status (0 with no failure, else 1).
int finish_result(JsonWriter& w, const rapidjson::StringBuffer& buffer,
                  const std::vector<std::string>& failures, const ErrorLog& errors);
// Every mode's start: the server from --url, and an open-files limit that
// fits `sockets` (`what` names them in the error). nullopt with `error` set.
std::optional<ServerTarget> prepare_target(const Options& o, std::uint64_t sockets,
                                           std::string_view what, std::string& error);
// Registering `count` users as the options say.
RegisterPlan registration_plan(const Options& o, std::size_t count);

// Sleeps in short steps until `done()` or the deadline; calls `tick()`
// between steps. Returns done().
template <class Done, class Tick>
bool wait_until(double timeout_s, Done&& done, Tick&& tick);

void sleep_ms(unsigned ms);

template <class Done, class Tick>
bool wait_until(double timeout_s, Done&& done, Tick&& tick) {
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout_s * 1e9);
  while (!done()) {
    if (monotonic_ns() >= deadline) return done();
    sleep_ms(10);
    tick();
  }
  return true;
}

}  // namespace parley::bench
