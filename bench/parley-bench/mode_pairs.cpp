// pairs mode: N sender/receiver pairs, each sender keeping W message:send
// in flight; see pairs_clients.hpp for the clients and README.md for the
// JSON it prints.
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "parley-bench/accounts.hpp"
#include "parley-bench/modes.hpp"
#include "parley-bench/pairs_clients.hpp"

namespace parley::bench {
namespace {

namespace asio = boost::asio;

struct Totals {
  std::uint64_t connected = 0, connect_failed = 0, dropped = 0, ended = 0;
  std::uint64_t sent = 0, acked = 0, nacked = 0, received = 0, duplicated = 0, stored_twice = 0,
                unexpected = 0;
  std::uint64_t measured_sent = 0, measured_acked = 0, measured_received = 0;
};

class PairsRun {
 public:
  PairsRun(const Options& o, const ServerTarget& target, std::vector<Account> accounts);
  ~PairsRun() { teardown(); }
  PairsRun(const PairsRun&) = delete;
  PairsRun& operator=(const PairsRun&) = delete;

  int run();

 private:
  Totals totals() const;
  void teardown();
  void on_workers(void (PairsRun::*fn)(std::size_t worker));
  void start_connects(std::size_t worker);
  void begin_sending(std::size_t worker);
  void close_all(std::size_t worker);
  bool wait_phase(double seconds, Phase phase);
  void progress_line(const char* what);
  int report(double connect_s, const CpuSample& before, const CpuSample& after,
             std::optional<std::uint64_t> rss_before, std::optional<std::uint64_t> rss_after,
             bool drained);

  const Options& o_;
  const ServerTarget& target_;
  std::vector<Account> accounts_;
  PairsShared shared_;
  ErrorLog errors_;
  Progress progress_;
  Totals last_progress_;
  // Declared before the clients so that they are destroyed after them.
  WorkerPool pool_;
  std::vector<std::unique_ptr<WorkerContext>> contexts_;
  std::vector<std::unique_ptr<PairsStats>> stats_;
  std::vector<std::unique_ptr<PairSender>> senders_;
  std::vector<std::unique_ptr<PairReceiver>> receivers_;
};

std::string message_text(unsigned bytes) {
  std::string text;
  text.reserve(bytes);
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (unsigned i = 0; i < bytes; ++i) text += kAlphabet[i % kAlphabet.size()];
  return text;
}

PairsRun::PairsRun(const Options& o, const ServerTarget& target, std::vector<Account> accounts)
    : o_(o),
      target_(target),
      accounts_(std::move(accounts)),
      progress_(o.progress),
      pool_(o.threads) {
  shared_.window = o.window;
  shared_.text = message_text(o.text_bytes);
  const std::size_t per_worker = std::max<std::size_t>(1, o.connect_concurrency / o.threads);
  for (std::size_t w = 0; w < pool_.size(); ++w) {
    contexts_.push_back(std::make_unique<WorkerContext>(per_worker));
    stats_.push_back(std::make_unique<PairsStats>());
  }
  const SourceAddresses sources(o.source_ips);
  for (std::size_t i = 0; i < o.pairs; ++i) {
    const std::size_t w = i % pool_.size();
    const Account& sender = accounts_[2 * i];
    const Account& receiver = accounts_[2 * i + 1];
    auto& io = pool_[w].io();
    receivers_.push_back(
        std::make_unique<PairReceiver>(io, *contexts_[w], errors_, shared_, *stats_[w], sender.id));
    senders_.push_back(
        std::make_unique<PairSender>(io, *contexts_[w], errors_, shared_, *stats_[w], receiver.id));
    // Before the workers run: the queues are not shared yet.
    receivers_.back()->queue_connect(target_, sources.for_index(2 * i + 1), receiver.token,
                                     2 * i + 1);
    senders_.back()->queue_connect(target_, sources.for_index(2 * i), sender.token, 2 * i);
  }
}

// Stops the loops and releases every socket while the loops still exist:
// the clients' pending operations live in their memory.
void PairsRun::teardown() {
  pool_.stop();
  for (auto& s : senders_) s->discard();
  for (auto& r : receivers_) r->discard();
  pool_.drain();
}

Totals PairsRun::totals() const {
  Totals t;
  for (const auto& c : contexts_) {
    t.connected += c->connected.get();
    t.connect_failed += c->connect_failed.get();
    t.dropped += c->dropped.get();
    t.ended += c->ended.get();
  }
  for (const auto& s : stats_) {
    t.sent += s->sent.get();
    t.acked += s->acked.get();
    t.nacked += s->nacked.get();
    t.received += s->received.get();
    t.duplicated += s->duplicated.get();
    t.stored_twice += s->stored_twice.get();
    t.unexpected += s->unexpected.get();
    t.measured_sent += s->measured_sent.get();
    t.measured_acked += s->measured_acked.get();
    t.measured_received += s->measured_received.get();
  }
  return t;
}

void PairsRun::on_workers(void (PairsRun::*fn)(std::size_t worker)) {
  pool_.post_each([this, fn](std::size_t w) { (this->*fn)(w); });
}

void PairsRun::start_connects(std::size_t worker) {
  contexts_[worker]->queue.start();
}

void PairsRun::begin_sending(std::size_t worker) {
  for (std::size_t i = worker; i < senders_.size(); i += pool_.size()) senders_[i]->begin_sending();
}

void PairsRun::close_all(std::size_t worker) {
  for (std::size_t i = worker; i < senders_.size(); i += pool_.size()) {
    senders_[i]->close();
    receivers_[i]->close();
  }
}

void PairsRun::progress_line(const char* what) {
  const Totals t = totals();
  progress_.line(fmt::format(
      "{:<8} sent {:>8}/s  acked {:>8}/s  received {:>8}/s  in flight {:>6}  connected {}/{}", what,
      t.sent - last_progress_.sent, t.acked - last_progress_.acked,
      t.received - last_progress_.received, t.sent - t.acked - t.nacked, t.connected,
      2 * o_.pairs));
  last_progress_ = t;
}

// Holds `phase` for `seconds`, printing progress; false if a socket dropped.
bool PairsRun::wait_phase(double seconds, Phase phase) {
  const char* name = phase == Phase::warmup ? "warmup" : "measure";
  wait_until(
      seconds, [this] { return totals().dropped > 0; },
      [&] {
        if (progress_.due()) progress_line(name);
      });
  return totals().dropped == 0;
}

int PairsRun::run() {
  pool_.start();
  const std::uint64_t connect_start = monotonic_ns();
  const std::uint64_t sockets = 2 * o_.pairs;
  on_workers(&PairsRun::start_connects);
  const bool all_connected = wait_until(
      o_.connect_timeout_s,
      [&] {
        const Totals t = totals();
        return t.connected == sockets || t.connect_failed > 0;
      },
      [&] {
        if (progress_.due()) progress_line("connect");
      });
  const double connect_s = static_cast<double>(monotonic_ns() - connect_start) / 1e9;
  const Totals after_connect = totals();
  if (!all_connected || after_connect.connected != sockets) {
    std::string why = errors_.count() > 0
                          ? errors_.first().front()
                          : fmt::format("{} of {} sockets connected after {} s",
                                        after_connect.connected, sockets, o_.connect_timeout_s);
    shared_.phase = Phase::closing;
    on_workers(&PairsRun::close_all);
    wait_until(
        2, [&] { return totals().ended == sockets; }, [] {});
    teardown();
    return fail_early(o_, why);
  }
  last_progress_ = totals();

  const std::optional<std::uint64_t> rss_before =
      o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;
  bool healthy = true;
  if (o_.warmup_s > 0) {
    shared_.phase = Phase::warmup;
    on_workers(&PairsRun::begin_sending);
    healthy = wait_phase(o_.warmup_s, Phase::warmup);
  }
  const CpuSample before = sample_cpu(o_.server_pid);
  if (shared_.phase == Phase::setup) {
    shared_.phase = Phase::measure;
    on_workers(&PairsRun::begin_sending);
  } else {
    shared_.phase = Phase::measure;
  }
  if (healthy) healthy = wait_phase(o_.duration_s, Phase::measure);
  shared_.phase = Phase::drain;
  const CpuSample after = sample_cpu(o_.server_pid);
  const std::optional<std::uint64_t> rss_after =
      o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;

  auto settled = [](const Totals& t) {
    return t.sent == t.acked + t.nacked && t.received >= t.acked;
  };
  wait_until(
      o_.drain_s,
      [&] {
        const Totals t = totals();
        return t.dropped > 0 || settled(t);
      },
      [&] {
        if (progress_.due()) progress_line("drain");
      });
  const bool drained = settled(totals());

  shared_.phase = Phase::closing;
  on_workers(&PairsRun::close_all);
  wait_until(
      5, [&] { return totals().ended == sockets; }, [] {});
  teardown();
  return report(connect_s, before, after, rss_before, rss_after, drained);
}

int PairsRun::report(double connect_s, const CpuSample& before, const CpuSample& after,
                     std::optional<std::uint64_t> rss_before,
                     std::optional<std::uint64_t> rss_after, bool drained) {
  const Totals t = totals();
  Histogram ack_ns;
  Histogram receipt_ns;
  for (const auto& s : stats_) {
    ack_ns.merge(s->ack_ns);
    receipt_ns.merge(s->receipt_ns);
  }
  // Acked by the server, never received: lost. Received, never acked ok:
  // stored although refused, or its ack still missing.
  std::uint64_t lost = 0;
  std::uint64_t received_unacked = 0;
  for (std::size_t i = 0; i < senders_.size(); ++i) {
    const SeqBits& acked = senders_[i]->acked();
    const SeqBits& received = receivers_[i]->received();
    for (std::uint64_t seq = 0; seq < senders_[i]->sent(); ++seq) {
      const bool a = acked.test(seq);
      const bool r = received.test(seq);
      if (a && !r) ++lost;
      if (r && !a) ++received_unacked;
    }
  }
  const std::uint64_t unacked = t.sent - t.acked - t.nacked;
  const double window_s = static_cast<double>(after.wall_ns - before.wall_ns) / 1e9;

  std::vector<std::string> failures;
  if (t.dropped > 0) failures.push_back(fmt::format("{} sockets dropped", t.dropped));
  if (t.acked == 0) failures.push_back("no message was acked");
  if (lost > 0) failures.push_back(fmt::format("{} messages lost", lost));
  if (t.duplicated > 0) failures.push_back(fmt::format("{} messages duplicated", t.duplicated));
  if (t.stored_twice > 0) {
    failures.push_back(fmt::format("{} tempIds stored as two messages", t.stored_twice));
  }
  if (t.nacked > 0) failures.push_back(fmt::format("{} sends refused", t.nacked));
  if (unacked > 0) failures.push_back(fmt::format("{} sends never acked", unacked));
  if (received_unacked > 0 && unacked == 0) {
    failures.push_back(fmt::format("{} messages received but not acked ok", received_unacked));
  }
  if (t.unexpected > 0) failures.push_back(fmt::format("{} unexpected packets", t.unexpected));

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.SetMaxDecimalPlaces(3);
  begin_result(w, o_);
  w.Key("ok");
  w.Bool(failures.empty());
  w.Key("pairs");
  w.Uint(o_.pairs);
  w.Key("window");
  w.Uint(o_.window);
  w.Key("text_bytes");
  w.Uint(o_.text_bytes);
  w.Key("warmup_s");
  w.Double(o_.warmup_s);
  w.Key("duration_s");
  w.Double(window_s);
  w.Key("connect_s");
  w.Double(connect_s);
  w.Key("sent");
  w.Uint64(t.measured_sent);
  w.Key("acked");
  w.Uint64(t.measured_acked);
  w.Key("received");
  w.Uint64(t.measured_received);
  w.Key("acked_per_s");
  w.Double(window_s > 0 ? static_cast<double>(t.measured_acked) / window_s : 0);
  w.Key("received_per_s");
  w.Double(window_s > 0 ? static_cast<double>(t.measured_received) / window_s : 0);
  write_latency_ms(w, "ack_latency_ms", ack_ns);
  write_latency_ms(w, "receipt_latency_ms", receipt_ns);
  w.Key("lost");
  w.Uint64(lost);
  w.Key("duplicated");
  w.Uint64(t.duplicated);
  w.Key("totals");
  w.StartObject();
  w.Key("sent");
  w.Uint64(t.sent);
  w.Key("acked");
  w.Uint64(t.acked);
  w.Key("refused");
  w.Uint64(t.nacked);
  w.Key("unacked");
  w.Uint64(unacked);
  w.Key("received");
  w.Uint64(t.received);
  w.Key("received_unacked");
  w.Uint64(received_unacked);
  w.Key("stored_twice");
  w.Uint64(t.stored_twice);
  w.Key("unexpected");
  w.Uint64(t.unexpected);
  w.Key("drained");
  w.Bool(drained);
  w.EndObject();
  CpuReport cpu;
  cpu.before = before;
  cpu.after = after;
  cpu.units = t.measured_acked;
  cpu.rss_before = rss_before;
  cpu.rss_after = rss_after;
  write_cpu(w, o_, cpu);
  return finish_result(w, buf, failures, errors_);
}

}  // namespace

int run_pairs(const Options& o) {
  std::string error;
  const auto target = prepare_target(o, 2ULL * o.pairs, "sockets", error);
  if (!target) return fail_early(o, error);
  const RegisterPlan plan = registration_plan(o, 2ULL * o.pairs);
  auto accounts =
      register_accounts(*target, SourceAddresses(o.source_ips), run_prefix(), plan, error);
  if (!accounts) return fail_early(o, error);
  PairsRun run(o, *target, std::move(*accounts));
  return run.run();
}

}  // namespace parley::bench
