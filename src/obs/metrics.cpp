#include "obs/metrics.hpp"

#include <fmt/format.h>

namespace parley::obs {

Metrics::Metrics() {
  open_connections_ = &gauge("parley_http_open_connections", "Open client connections.");
}

Counter& Metrics::counter(std::string name, std::string help) {
  for (const auto& n : named_) {
    if (n.name == name && n.counter) return *n.counter;  // one series per name
  }
  Counter& c = counters_.emplace_back();
  named_.push_back({std::move(name), std::move(help), "counter", &c, nullptr});
  return c;
}

Gauge& Metrics::gauge(std::string name, std::string help) {
  for (const auto& n : named_) {
    if (n.name == name && n.gauge) return *n.gauge;
  }
  Gauge& g = gauges_.emplace_back();
  named_.push_back({std::move(name), std::move(help), "gauge", nullptr, &g});
  return g;
}

std::size_t Metrics::route(std::string label) {
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].label == label) return i;
  }
  routes_.emplace_back().label = std::move(label);
  return routes_.size() - 1;
}

void Metrics::record_request(std::size_t route, int status, double seconds) {
  if (route < routes_.size()) {
    std::size_t slot = kStatuses.size() - 1;
    for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i) {
      if (kStatuses[i] == status) {
        slot = i;
        break;
      }
    }
    routes_[route].by_status[slot].inc();
  }
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  duration_buckets_[b].inc();
  duration_count_.inc();
  duration_sum_us_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Metrics::render() const {
  std::string out;
  out += "# HELP parley_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE parley_http_requests_total counter\n";
  for (const auto& r : routes_) {
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
      const auto v = r.by_status[i].value.load(std::memory_order_relaxed);
      if (v == 0) continue;
      const std::string status = kStatuses[i] == 0 ? "other" : std::to_string(kStatuses[i]);
      out += fmt::format("parley_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", r.label,
                         status, v);
    }
  }
  out += "# HELP parley_http_request_duration_seconds HTTP request duration.\n";
  out += "# TYPE parley_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < duration_buckets_.size(); ++i) {
    cumulative += duration_buckets_[i].value.load(std::memory_order_relaxed);
    const std::string le = i < kBuckets.size() ? fmt::format("{}", kBuckets[i]) : "+Inf";
    out += fmt::format("parley_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", le,
                       cumulative);
  }
  out += fmt::format("parley_http_request_duration_seconds_sum {:.6f}\n",
                     static_cast<double>(duration_sum_us_.load(std::memory_order_relaxed)) / 1e6);
  out += fmt::format("parley_http_request_duration_seconds_count {}\n",
                     duration_count_.value.load(std::memory_order_relaxed));
  for (const auto& n : named_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", n.name, n.help, n.name, n.type);
    if (n.counter) {
      out += fmt::format("{} {}\n", n.name, n.counter->value.load(std::memory_order_relaxed));
    } else {
      out += fmt::format("{} {}\n", n.name, n.gauge->value.load(std::memory_order_relaxed));
    }
  }
  for (const auto& c : collectors_) out += c();
  return out;
}

}  // namespace parley::obs
