// parley::obs metrics, rendered in the Prometheus text format at /metrics.
// Metrics are created at start-up (single-threaded, before I/O threads run)
// and updated from any thread afterwards with relaxed atomics: a counter
// bump on the hot path is one uncontended atomic add, no lock, no lookup.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley::obs {

struct Counter {
  std::atomic<std::uint64_t> value{0};
  void inc(std::uint64_t n = 1) { value.fetch_add(n, std::memory_order_relaxed); }
};

struct Gauge {
  std::atomic<std::int64_t> value{0};
  void add(std::int64_t n) { value.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) { value.store(n, std::memory_order_relaxed); }
};

class Metrics {
 public:
  Metrics();

  // Start-up only. The returned references stay valid for the process; a
  // name registered twice gives the same metric (one series per name).
  Counter& counter(std::string name, std::string help);
  Gauge& gauge(std::string name, std::string help);
  // Start-up only. `collect` renders extra metric lines at each scrape (for
  // counters owned elsewhere, e.g. by the store).
  void collector(std::function<std::string()> collect) {
    collectors_.push_back(std::move(collect));
  }
  // Registers an HTTP route label; the index is what record_request takes.
  std::size_t route(std::string label);

  // Any thread.
  void record_request(std::size_t route, int status, double seconds);
  Gauge& open_connections() { return *open_connections_; }

  std::string render() const;

 private:
  static constexpr std::array<int, 16> kStatuses{200, 201, 204, 400, 401, 403, 404, 405,
                                                 409, 413, 415, 429, 500, 503, 101, 0};
  static constexpr std::array<double, 13> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5};
  struct RouteCounters {
    std::string label;
    std::array<Counter, kStatuses.size()> by_status;  // last slot: other statuses
  };
  struct Named {
    std::string name, help, type;
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
  };

  std::deque<RouteCounters> routes_;
  std::deque<Counter> counters_;
  std::deque<Gauge> gauges_;
  std::vector<Named> named_;
  std::vector<std::function<std::string()>> collectors_;
  std::array<Counter, kBuckets.size() + 1> duration_buckets_;  // last: +Inf
  Counter duration_count_;
  std::atomic<std::uint64_t> duration_sum_us_{0};
  Gauge* open_connections_;
};

}  // namespace parley::obs
