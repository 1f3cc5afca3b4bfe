// http mode: C keep-alive connections, each with its own sender and peer,
// doing POST /api/messages/send or GET /api/messages/<peerId>?limit=50 one
// request at a time (no pipelining). For history, each conversation is
// first filled with --seed messages, not measured.
#include <atomic>

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "parley-bench/accounts.hpp"
#include "parley-bench/histogram.hpp"
#include "parley-bench/http_client.hpp"
#include "parley-bench/modes.hpp"
#include "parley-bench/socket_client.hpp"

namespace parley::bench {
namespace {

namespace asio = boost::asio;

enum class HttpPhase : int { seed, warmup, measure, stop };

// Per worker.
struct HttpStats {
  RelaxedCounter completed;
  RelaxedCounter failed;
  RelaxedCounter measured;
  RelaxedCounter seeded;   // connections done seeding (or failed at it)
  RelaxedCounter stopped;  // connections idle after the load
  Histogram latency_ns;
};

struct HttpShared {
  std::atomic<HttpPhase> phase{HttpPhase::seed};
  HttpKind kind = HttpKind::send;
  unsigned seed_messages = 0;
  std::string text;
  HttpPhase now() const { return phase.load(std::memory_order_relaxed); }
};

class HttpLoadClient {
 public:
  HttpLoadClient(asio::io_context& io, const ServerTarget& target,
                 const std::optional<asio::ip::address>& source, const HttpShared& shared,
                 HttpStats& stats, ErrorLog& errors, const Account& sender, const Account& peer)
      : client_(io, target, source),
        shared_(shared),
        stats_(stats),
        errors_(errors),
        token_(sender.token),
        peer_(peer.id),
        history_target_(fmt::format("/api/messages/{}?limit=50", peer.id)) {}

  // Fills the conversation first when measuring history.
  void seed() {
    if (shared_.kind != HttpKind::history || seeded_ == shared_.seed_messages) {
      stats_.seeded.add();
      return;
    }
    send_message([this](const HttpAnswer& a) {
      if (!a.error.empty() || a.status != 201) {
        stats_.failed.add();
        errors_.add(fmt::format("seeding: {}{} {}", a.error, a.status, a.body.substr(0, 200)));
        stats_.seeded.add();
        return;
      }
      ++seeded_;
      seed();
    });
  }

  // One request after another until the phase is stop.
  void next() {
    if (shared_.now() == HttpPhase::stop) {
      stats_.stopped.add();
      return;
    }
    const std::uint64_t started = monotonic_ns();
    auto done = [this, started](const HttpAnswer& a) { on_answer(a, started); };
    if (shared_.kind == HttpKind::send) return send_message(std::move(done));
    client_.request(history_target_, std::nullopt, token_, std::move(done));
  }

 private:
  void send_message(HttpClient::Callback done) {
    body_.clear();
    body_ += R"({"to":")";
    body_ += peer_;
    body_ += R"(","text":")";
    body_ += shared_.text;
    body_ += R"(","tempId":"h)";
    append_number(body_, seq_++);
    body_ += R"("})";
    client_.request("/api/messages/send", body_, token_, std::move(done));
  }

  void on_answer(const HttpAnswer& a, std::uint64_t started) {
    const unsigned expected = shared_.kind == HttpKind::send ? 201 : 200;
    if (!a.error.empty() || a.status != expected) {
      stats_.failed.add();
      errors_.add(fmt::format("{}{} {}", a.error, a.status, a.body.substr(0, 200)));
    } else {
      stats_.completed.add();
      if (shared_.now() == HttpPhase::measure) {
        stats_.measured.add();
        stats_.latency_ns.record(monotonic_ns() - started);
      }
    }
    next();
  }

  HttpClient client_;
  const HttpShared& shared_;
  HttpStats& stats_;
  ErrorLog& errors_;
  std::string token_;
  std::string peer_;
  std::string history_target_;
  std::string body_;
  std::uint64_t seq_ = 0;
  unsigned seeded_ = 0;
};

class HttpRun {
 public:
  HttpRun(const Options& o, const ServerTarget& target, const std::vector<Account>& accounts);
  ~HttpRun() { pool_.stop(); }
  HttpRun(const HttpRun&) = delete;
  HttpRun& operator=(const HttpRun&) = delete;

  int run();

 private:
  struct Totals {
    std::uint64_t completed = 0, failed = 0, measured = 0, seeded = 0, stopped = 0;
  };
  Totals totals() const;
  void each_client(void (HttpLoadClient::*fn)());
  void progress_line(const char* what);

  const Options& o_;
  HttpShared shared_;
  ErrorLog errors_;
  Progress progress_;
  Totals last_progress_;
  WorkerPool pool_;
  std::vector<std::unique_ptr<HttpStats>> stats_;
  std::vector<std::unique_ptr<HttpLoadClient>> clients_;
};

HttpRun::HttpRun(const Options& o, const ServerTarget& target, const std::vector<Account>& accounts)
    : o_(o), progress_(o.progress), pool_(o.threads) {
  shared_.kind = o.kind;
  shared_.seed_messages = o.seed_messages;
  shared_.text.assign(o.text_bytes, 'h');
  for (std::size_t w = 0; w < pool_.size(); ++w) stats_.push_back(std::make_unique<HttpStats>());
  const SourceAddresses sources(o.source_ips);
  for (std::size_t i = 0; i < o.connections; ++i) {
    const std::size_t w = i % pool_.size();
    clients_.push_back(std::make_unique<HttpLoadClient>(pool_[w].io(), target, sources.for_index(i),
                                                        shared_, *stats_[w], errors_,
                                                        accounts[2 * i], accounts[2 * i + 1]));
  }
}

HttpRun::Totals HttpRun::totals() const {
  Totals t;
  for (const auto& s : stats_) {
    t.completed += s->completed.get();
    t.failed += s->failed.get();
    t.measured += s->measured.get();
    t.seeded += s->seeded.get();
    t.stopped += s->stopped.get();
  }
  return t;
}

// Runs `fn` for every client, on its worker's thread.
void HttpRun::each_client(void (HttpLoadClient::*fn)()) {
  pool_.post_each([this, fn](std::size_t w) {
    for (std::size_t i = w; i < clients_.size(); i += pool_.size()) (clients_[i].get()->*fn)();
  });
}

void HttpRun::progress_line(const char* what) {
  const Totals t = totals();
  progress_.line(fmt::format("{:<8} requests {:>7}/s  failed {}", what,
                             t.completed - last_progress_.completed, t.failed));
  last_progress_ = t;
}

int HttpRun::run() {
  pool_.start();
  each_client(&HttpLoadClient::seed);
  const bool seeded = wait_until(
      o_.connect_timeout_s, [&] { return totals().seeded == o_.connections; },
      [&] {
        if (progress_.due()) progress_line("seed");
      });
  if (!seeded || totals().failed > 0) {
    shared_.phase = HttpPhase::stop;
    pool_.stop();
    return fail_early(o_, errors_.count() > 0 ? errors_.first().front()
                                              : std::string("seeding did not finish in time"));
  }
  last_progress_ = totals();
  shared_.phase = o_.warmup_s > 0 ? HttpPhase::warmup : HttpPhase::measure;
  each_client(&HttpLoadClient::next);
  if (o_.warmup_s > 0) {
    wait_until(
        o_.warmup_s, [] { return false; },
        [&] {
          if (progress_.due()) progress_line("warmup");
        });
  }
  const std::optional<std::uint64_t> rss_before =
      o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;
  const CpuSample before = sample_cpu(o_.server_pid);
  shared_.phase = HttpPhase::measure;
  wait_until(
      o_.duration_s, [] { return false; },
      [&] {
        if (progress_.due()) progress_line("measure");
      });
  shared_.phase = HttpPhase::stop;
  const CpuSample after = sample_cpu(o_.server_pid);
  const std::optional<std::uint64_t> rss_after =
      o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;
  wait_until(
      o_.drain_s, [&] { return totals().stopped == o_.connections; }, [] {});
  pool_.stop();

  const Totals t = totals();
  Histogram latency;
  for (const auto& s : stats_) latency.merge(s->latency_ns);
  const double window_s = static_cast<double>(after.wall_ns - before.wall_ns) / 1e9;
  std::vector<std::string> failures;
  if (t.failed > 0) failures.push_back(fmt::format("{} requests failed", t.failed));
  if (t.measured == 0) failures.push_back("no request completed in the measured interval");

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.SetMaxDecimalPlaces(3);
  begin_result(w, o_);
  w.Key("ok");
  w.Bool(failures.empty());
  w.Key("kind");
  w.String(o_.kind == HttpKind::send ? "send" : "history");
  w.Key("connections");
  w.Uint(o_.connections);
  w.Key("warmup_s");
  w.Double(o_.warmup_s);
  w.Key("duration_s");
  w.Double(window_s);
  w.Key("requests");
  w.Uint64(t.measured);
  w.Key("requests_per_s");
  w.Double(window_s > 0 ? static_cast<double>(t.measured) / window_s : 0);
  write_latency_ms(w, "latency_ms", latency);
  w.Key("failed");
  w.Uint64(t.failed);
  CpuReport cpu;
  cpu.before = before;
  cpu.after = after;
  cpu.units = t.measured;
  cpu.per_unit_key = "cpu_us_per_request";
  cpu.rss_before = rss_before;
  cpu.rss_after = rss_after;
  write_cpu(w, o_, cpu);
  return finish_result(w, buf, failures, errors_);
}

}  // namespace

int run_http(const Options& o) {
  std::string error;
  const auto target = prepare_target(o, std::uint64_t{o.connections}, "connections", error);
  if (!target) return fail_early(o, error);
  const RegisterPlan plan = registration_plan(o, 2ULL * o.connections);
  const auto accounts =
      register_accounts(*target, SourceAddresses(o.source_ips), run_prefix(), plan, error);
  if (!accounts) return fail_early(o, error);
  HttpRun run(o, *target, *accounts);
  return run.run();
}

}  // namespace parley::bench
