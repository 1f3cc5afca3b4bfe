#include "parley-bench/run_support.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

namespace parley::bench {

void ErrorLog::add(std::string message) {
  const std::lock_guard lock(mutex_);
  ++count_;
  if (kept_.size() < kKept) kept_.push_back(std::move(message));
}

std::size_t ErrorLog::count() const {
  const std::lock_guard lock(mutex_);
  return count_;
}

std::vector<std::string> ErrorLog::first() const {
  const std::lock_guard lock(mutex_);
  return kept_;
}

Progress::Progress(bool enabled)
    : enabled_(enabled), start_ns_(monotonic_ns()), next_ns_(start_ns_ + 1000000000) {}

bool Progress::due() {
  const std::uint64_t now = monotonic_ns();
  if (now < next_ns_) return false;
  while (next_ns_ <= now) next_ns_ += 1000000000;
  return enabled_;
}

void Progress::line(std::string_view text) const {
  fmt::print(stderr, "[{:6.1f}s] {}\n", elapsed_s(), text);
  std::fflush(stderr);
}

double Progress::elapsed_s() const {
  return static_cast<double>(monotonic_ns() - start_ns_) / 1e9;
}

void begin_result(JsonWriter& w, const Options& o) {
  w.StartObject();
  w.Key("mode");
  const std::string_view mode = mode_name(o.mode);
  w.String(mode.data(), static_cast<rapidjson::SizeType>(mode.size()));
  w.Key("url");
  w.String(o.url.data(), static_cast<rapidjson::SizeType>(o.url.size()));
  w.Key("threads");
  w.Uint(o.threads);
  w.Key("source_ips");
  w.Uint(o.source_ips);
}

void write_latency_ms(JsonWriter& w, std::string_view key, const Histogram& h) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartObject();
  auto ms = [&w](std::string_view k, std::uint64_t ns) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.Double(static_cast<double>(ns) / 1e6);
  };
  w.Key("count");
  w.Uint64(h.count());
  ms("p50", h.percentile(50));
  ms("p90", h.percentile(90));
  ms("p99", h.percentile(99));
  ms("p999", h.percentile(99.9));
  ms("max", h.max());
  w.EndObject();
}

void write_cpu(JsonWriter& w, const Options& o, const CpuReport& r,
               const std::function<void(JsonWriter&)>& extra_server) {
  const double wall_us = static_cast<double>(r.after.wall_ns - r.before.wall_ns) / 1e3;
  auto used = [&w, &r, wall_us](std::uint64_t us) {
    w.Key("cpu_s");
    w.Double(static_cast<double>(us) / 1e6);
    w.Key("cpu_cores");
    w.Double(wall_us > 0 ? static_cast<double>(us) / wall_us : 0.0);
    w.Key(r.per_unit_key.data(), static_cast<rapidjson::SizeType>(r.per_unit_key.size()));
    w.Double(r.units == 0 ? 0.0 : static_cast<double>(us) / static_cast<double>(r.units));
  };
  w.Key("server");
  w.StartObject();
  if (o.server_pid) {
    w.Key("pid");
    w.Int(*o.server_pid);
    if (r.before.server_us && r.after.server_us) used(*r.after.server_us - *r.before.server_us);
    if (r.rss_before) {
      w.Key("rss_kib_before");
      w.Uint64(*r.rss_before);
    }
    if (r.rss_after) {
      w.Key("rss_kib_after");
      w.Uint64(*r.rss_after);
    }
    if (extra_server) extra_server(w);
  }
  w.EndObject();
  w.Key("generator");
  w.StartObject();
  used(r.after.self_us - r.before.self_us);
  w.EndObject();
}

void write_errors(JsonWriter& w, const ErrorLog& errors) {
  w.Key("error_count");
  w.Uint64(errors.count());
  w.Key("errors");
  w.StartArray();
  for (const std::string& e : errors.first()) {
    w.String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
  }
  w.EndArray();
}

void print_result(const rapidjson::StringBuffer& buffer) {
  std::fwrite(buffer.GetString(), 1, buffer.GetSize(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int finish_result(JsonWriter& w, const rapidjson::StringBuffer& buffer,
                  const std::vector<std::string>& failures, const ErrorLog& errors) {
  w.Key("failures");
  w.StartArray();
  for (const auto& f : failures) w.String(f.data(), static_cast<rapidjson::SizeType>(f.size()));
  w.EndArray();
  write_errors(w, errors);
  w.EndObject();
  print_result(buffer);
  return failures.empty() ? 0 : 1;
}

std::optional<ServerTarget> prepare_target(const Options& o, std::uint64_t sockets,
                                           std::string_view what, std::string& error) {
  auto target = resolve_target(o.url, error);
  if (!target) return std::nullopt;
  const std::uint64_t files = raise_open_files_limit();
  if (files < sockets + 64) {
    error = fmt::format("{} {} need more open files than the limit of {}", sockets, what, files);
    return std::nullopt;
  }
  return target;
}

RegisterPlan registration_plan(const Options& o, std::size_t count) {
  RegisterPlan plan;
  plan.count = count;
  plan.concurrency = o.register_concurrency;
  plan.timeout_s = o.connect_timeout_s;
  plan.progress = o.progress;
  return plan;
}

void sleep_ms(unsigned ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace parley::bench
