// idle mode: C authenticated sockets over U users, held open; the connect
// rate and the server's memory per socket. Each connect of a user's first
// socket makes the server broadcast user:online to every socket, so the
// clients read a lot and must do little with it: they only ack what asks
// for an ack and answer pings.
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "parley-bench/accounts.hpp"
#include "parley-bench/modes.hpp"
#include "parley-bench/socket_client.hpp"

namespace parley::bench {
namespace {

namespace asio = boost::asio;

// Small: an idle socket mostly gets presence events; the buffer grows for
// a larger one (users:online lists every user online).
constexpr std::size_t kIdleReadBuffer = 4096;

class IdleClient final : public SocketClient {
 public:
  using SocketClient::SocketClient;

 private:
  void on_packet(WsConnection& /*conn*/, const SioPacket& packet) override {
    if (packet.type == '2' && packet.id) ack_empty(*packet.id);
  }
};

class IdleRun {
 public:
  IdleRun(const Options& o, const ServerTarget& target, const std::vector<Account>& accounts);
  ~IdleRun() { teardown(); }
  IdleRun(const IdleRun&) = delete;
  IdleRun& operator=(const IdleRun&) = delete;

  int run();

 private:
  struct Totals {
    std::uint64_t connected = 0, connect_failed = 0, dropped = 0, ended = 0;
  };
  Totals totals() const;
  void teardown();
  void each_worker(void (IdleRun::*fn)(std::size_t worker));
  void start_connects(std::size_t worker) { contexts_[worker]->queue.start(); }
  void close_all(std::size_t worker);
  void progress_line(const char* what);

  const Options& o_;
  ErrorLog errors_;
  Progress progress_;
  WorkerPool pool_;
  std::vector<std::unique_ptr<WorkerContext>> contexts_;
  std::vector<std::unique_ptr<IdleClient>> clients_;
};

IdleRun::IdleRun(const Options& o, const ServerTarget& target, const std::vector<Account>& accounts)
    : o_(o), progress_(o.progress), pool_(o.threads) {
  const std::size_t per_worker = std::max<std::size_t>(1, o.connect_concurrency / o.threads);
  for (std::size_t w = 0; w < pool_.size(); ++w) {
    contexts_.push_back(std::make_unique<WorkerContext>(per_worker));
  }
  const SourceAddresses sources(o.source_ips);
  for (std::size_t i = 0; i < o.sockets; ++i) {
    const std::size_t w = i % pool_.size();
    clients_.push_back(
        std::make_unique<IdleClient>(pool_[w].io(), *contexts_[w], errors_, kIdleReadBuffer));
    clients_.back()->queue_connect(target, sources.for_index(i),
                                   accounts[i % accounts.size()].token, i);
  }
}

// As PairsRun::teardown(): sockets released while the loops exist.
void IdleRun::teardown() {
  pool_.stop();
  for (auto& c : clients_) c->discard();
  pool_.drain();
}

IdleRun::Totals IdleRun::totals() const {
  Totals t;
  for (const auto& c : contexts_) {
    t.connected += c->connected.get();
    t.connect_failed += c->connect_failed.get();
    t.dropped += c->dropped.get();
    t.ended += c->ended.get();
  }
  return t;
}

void IdleRun::each_worker(void (IdleRun::*fn)(std::size_t worker)) {
  pool_.post_each([this, fn](std::size_t w) { (this->*fn)(w); });
}

void IdleRun::close_all(std::size_t worker) {
  for (std::size_t i = worker; i < clients_.size(); i += pool_.size()) clients_[i]->close();
}

void IdleRun::progress_line(const char* what) {
  const Totals t = totals();
  std::string rss;
  if (o_.server_pid) {
    if (const auto kib = process_rss_kib(*o_.server_pid))
      rss = fmt::format("  server RSS {} KiB", *kib);
  }
  progress_.line(fmt::format("{:<8} connected {}/{}  failed {}  dropped {}{}", what, t.connected,
                             o_.sockets, t.connect_failed, t.dropped, rss));
}

int IdleRun::run() {
  const std::optional<std::uint64_t> rss_before =
      o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;
  const CpuSample before = sample_cpu(o_.server_pid);
  pool_.start();
  each_worker(&IdleRun::start_connects);
  wait_until(
      o_.connect_timeout_s,
      [&] {
        const Totals t = totals();
        return t.connected + t.connect_failed >= o_.sockets;
      },
      [&] {
        if (progress_.due()) progress_line("connect");
      });
  const CpuSample connected_at = sample_cpu(o_.server_pid);
  const Totals after_connect = totals();
  const double connect_s = static_cast<double>(connected_at.wall_ns - before.wall_ns) / 1e9;

  // Settled: the presence broadcasts of the last connects are through.
  wait_until(
      o_.settle_s, [] { return false; }, [] {});
  const std::optional<std::uint64_t> rss_after =
      o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;
  wait_until(
      o_.hold_s, [&] { return totals().dropped > 0; },
      [&] {
        if (progress_.due()) progress_line("hold");
      });

  each_worker(&IdleRun::close_all);
  wait_until(
      10, [&] { return totals().ended >= o_.sockets; }, [] {});
  teardown();
  const Totals t = totals();

  std::vector<std::string> failures;
  if (after_connect.connected < o_.sockets) {
    failures.push_back(
        fmt::format("{} of {} sockets connected", after_connect.connected, o_.sockets));
  }
  if (t.dropped > 0) failures.push_back(fmt::format("{} sockets dropped", t.dropped));

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.SetMaxDecimalPlaces(3);
  begin_result(w, o_);
  w.Key("ok");
  w.Bool(failures.empty());
  w.Key("sockets");
  w.Uint(o_.sockets);
  w.Key("users");
  w.Uint(o_.users);
  w.Key("connected");
  w.Uint64(after_connect.connected);
  w.Key("connect_failed");
  w.Uint64(t.connect_failed);
  w.Key("dropped");
  w.Uint64(t.dropped);
  w.Key("connect_s");
  w.Double(connect_s);
  w.Key("connect_per_s");
  w.Double(connect_s > 0 ? static_cast<double>(after_connect.connected) / connect_s : 0);
  w.Key("hold_s");
  w.Double(o_.hold_s);
  CpuReport cpu;
  cpu.before = before;
  cpu.after = connected_at;
  cpu.units = after_connect.connected;
  cpu.per_unit_key = "connect_cpu_us_per_socket";
  cpu.rss_before = rss_before;
  cpu.rss_after = rss_after;
  write_cpu(w, o_, cpu, [&](JsonWriter& jw) {
    if (!rss_before || !rss_after || after_connect.connected == 0) return;
    const double growth_kib = static_cast<double>(*rss_after) - static_cast<double>(*rss_before);
    const double per_socket_kib = growth_kib / static_cast<double>(after_connect.connected);
    jw.Key("rss_kib_per_socket");
    jw.Double(per_socket_kib);
    jw.Key("rss_bytes_per_socket");
    jw.Double(per_socket_kib * 1024);
  });
  return finish_result(w, buf, failures, errors_);
}

}  // namespace

int run_idle(const Options& o) {
  std::string error;
  const auto target = prepare_target(o, std::uint64_t{o.sockets}, "sockets", error);
  if (!target) return fail_early(o, error);
  const RegisterPlan plan = registration_plan(o, o.users);
  const auto accounts =
      register_accounts(*target, SourceAddresses(o.source_ips), run_prefix(), plan, error);
  if (!accounts) return fail_early(o, error);
  IdleRun run(o, *target, *accounts);
  return run.run();
}

}  // namespace parley::bench
