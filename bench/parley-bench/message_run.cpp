#include "parley-bench/message_run.hpp"

#include <fmt/format.h>

#include "parley-bench/modes.hpp"

namespace parley::bench {

std::string message_text(unsigned bytes) {
  std::string text;
  text.reserve(bytes);
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (unsigned i = 0; i < bytes; ++i) text += kAlphabet[i % kAlphabet.size()];
  return text;
}

MessageRun::MessageRun(const Options& o, const ServerTarget& target, const MessageRunShape& shape)
    : o_(o),
      target_(target),
      shape_(shape),
      sources_(o.source_ips),
      progress_(o.progress),
      pool_(o.threads) {
  shared_.window = o.window;
  const std::size_t per_worker = std::max<std::size_t>(1, o.connect_concurrency / o.threads);
  for (std::size_t w = 0; w < pool_.size(); ++w) {
    contexts_.push_back(std::make_unique<WorkerContext>(per_worker));
    stats_.push_back(std::make_unique<MessageStats>());
  }
  clients_of_worker_.resize(pool_.size());
  senders_of_worker_.resize(pool_.size());
}

MessageRun::~MessageRun() {
  teardown();
}

// Stops the loops and releases every socket while the loops still exist:
// the clients' pending operations live in their memory.
void MessageRun::teardown() {
  pool_.stop();
  for (auto& c : clients_) c->discard();
  pool_.drain();
}

MessageTotals MessageRun::totals() const {
  MessageTotals t;
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
    t.receipts += s->receipts.get();
    t.measured_sent += s->measured_sent.get();
    t.measured_acked += s->measured_acked.get();
    t.measured_received += s->measured_received.get();
    t.measured_receipts += s->measured_receipts.get();
  }
  return t;
}

// Every send answered, and every acked message at each of its receivers
// (and its receipts back, when counted).
bool MessageRun::settled(const MessageTotals& t) const {
  const std::uint64_t expected = t.acked * shape_.deliveries_per_message;
  return t.sent == t.acked + t.nacked && t.received >= expected &&
         (!shape_.counts_receipts || t.receipts >= expected);
}

void MessageRun::on_workers(void (MessageRun::*fn)(std::size_t worker)) {
  pool_.post_each([this, fn](std::size_t w) { (this->*fn)(w); });
}

void MessageRun::start_connects(std::size_t worker) {
  contexts_[worker]->queue.start();
}

void MessageRun::begin_sending(std::size_t worker) {
  for (WindowSender* s : senders_of_worker_[worker]) s->begin_sending();
}

void MessageRun::close_all(std::size_t worker) {
  for (SocketClient* c : clients_of_worker_[worker]) c->close();
}

void MessageRun::progress_line(const char* what) {
  const MessageTotals t = totals();
  progress_.line(
      fmt::format("{:<8} sent {:>8}/s  acked {:>8}/s  {} {:>8}/s  in flight {:>6}  connected {}/{}",
                  what, t.sent - last_progress_.sent, t.acked - last_progress_.acked,
                  shape_.received_key, t.received - last_progress_.received,
                  t.sent - t.acked - t.nacked, t.connected, shape_.sockets));
  last_progress_ = t;
}

// Holds `phase` for `seconds`, printing progress; false if a socket dropped.
bool MessageRun::wait_phase(double seconds, Phase phase) {
  const char* name = phase == Phase::warmup ? "warmup" : "measure";
  wait_until(
      seconds, [this] { return totals().dropped > 0; },
      [&] {
        if (progress_.due()) progress_line(name);
      });
  return totals().dropped == 0;
}

// Not every socket connected: closes those that did and reports why.
int MessageRun::fail_setup() {
  const MessageTotals t = totals();
  std::string why = errors_.count() > 0
                        ? errors_.first().front()
                        : fmt::format("{} of {} sockets connected after {} s", t.connected,
                                      shape_.sockets, o_.connect_timeout_s);
  shared_.phase = Phase::closing;
  on_workers(&MessageRun::close_all);
  wait_until(
      2, [&] { return totals().ended == shape_.sockets; }, [] {});
  teardown();
  return fail_early(o_, why);
}

int MessageRun::run() {
  pool_.start();
  const std::uint64_t connect_start = monotonic_ns();
  on_workers(&MessageRun::start_connects);
  const bool all_connected = wait_until(
      o_.connect_timeout_s,
      [&] {
        const MessageTotals t = totals();
        return t.connected == shape_.sockets || t.connect_failed > 0;
      },
      [&] {
        if (progress_.due()) progress_line("connect");
      });
  Outcome out;
  out.connect_s = static_cast<double>(monotonic_ns() - connect_start) / 1e9;
  if (!all_connected || totals().connected != shape_.sockets) return fail_setup();
  last_progress_ = totals();

  out.rss_before = o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;
  bool healthy = true;
  if (o_.warmup_s > 0) {
    shared_.phase = Phase::warmup;
    on_workers(&MessageRun::begin_sending);
    healthy = wait_phase(o_.warmup_s, Phase::warmup);
  }
  out.before = sample_cpu(o_.server_pid);
  if (shared_.phase == Phase::setup) {
    shared_.phase = Phase::measure;
    on_workers(&MessageRun::begin_sending);
  } else {
    shared_.phase = Phase::measure;
  }
  if (healthy) healthy = wait_phase(o_.duration_s, Phase::measure);
  shared_.phase = Phase::drain;
  out.after = sample_cpu(o_.server_pid);
  out.rss_after = o_.server_pid ? process_rss_kib(*o_.server_pid) : std::nullopt;

  wait_until(
      o_.drain_s,
      [&] {
        const MessageTotals t = totals();
        return t.dropped > 0 || settled(t);
      },
      [&] {
        if (progress_.due()) progress_line("drain");
      });
  out.drained = settled(totals());

  shared_.phase = Phase::closing;
  on_workers(&MessageRun::close_all);
  wait_until(
      5, [&] { return totals().ended == shape_.sockets; }, [] {});
  teardown();
  return report(out);
}

int MessageRun::report(const Outcome& out) {
  const MessageTotals t = totals();
  Histogram ack_ns;
  Histogram receipt_ns;
  for (const auto& s : stats_) {
    ack_ns.merge(s->ack_ns);
    receipt_ns.merge(s->receipt_ns);
  }
  const DeliveryTally tally = this->tally();
  const std::uint64_t unacked = t.sent - t.acked - t.nacked;
  const double window_s = static_cast<double>(out.after.wall_ns - out.before.wall_ns) / 1e9;
  const bool group = shape_.deliveries_per_message > 1;
  auto per_s = [window_s](std::uint64_t n) {
    return window_s > 0 ? static_cast<double>(n) / window_s : 0.0;
  };

  std::vector<std::string> failures;
  if (t.dropped > 0) failures.push_back(fmt::format("{} sockets dropped", t.dropped));
  if (t.acked == 0) failures.push_back("no message was acked");
  if (tally.missing > 0) {
    failures.push_back(group ? fmt::format("{} deliveries lost", tally.missing)
                             : fmt::format("{} messages lost", tally.missing));
  }
  if (t.duplicated > 0) failures.push_back(fmt::format("{} messages duplicated", t.duplicated));
  if (t.stored_twice > 0) {
    failures.push_back(fmt::format("{} tempIds stored as two messages", t.stored_twice));
  }
  if (t.nacked > 0) failures.push_back(fmt::format("{} sends refused", t.nacked));
  if (unacked > 0) failures.push_back(fmt::format("{} sends never acked", unacked));
  if (tally.received_unacked > 0 && unacked == 0) {
    failures.push_back(
        fmt::format("{} messages received but not acked ok", tally.received_unacked));
  }
  if (t.unexpected > 0) failures.push_back(fmt::format("{} unexpected packets", t.unexpected));

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.SetMaxDecimalPlaces(3);
  auto key = [&w](std::string_view k) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  };
  begin_result(w, o_);
  w.Key("ok");
  w.Bool(failures.empty());
  write_settings(w);
  w.Key("warmup_s");
  w.Double(o_.warmup_s);
  w.Key("duration_s");
  w.Double(window_s);
  w.Key("connect_s");
  w.Double(out.connect_s);
  w.Key("sent");
  w.Uint64(t.measured_sent);
  w.Key("acked");
  w.Uint64(t.measured_acked);
  key(shape_.received_key);
  w.Uint64(t.measured_received);
  w.Key("acked_per_s");
  w.Double(per_s(t.measured_acked));
  key(fmt::format("{}_per_s", shape_.received_key));
  w.Double(per_s(t.measured_received));
  if (shape_.counts_receipts) {
    w.Key("receipts");
    w.Uint64(t.measured_receipts);
    w.Key("receipts_per_s");
    w.Double(per_s(t.measured_receipts));
  }
  write_latency_ms(w, "ack_latency_ms", ack_ns);
  write_latency_ms(w, shape_.latency_key, receipt_ns);
  w.Key("lost");
  w.Uint64(tally.missing);
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
  key(shape_.received_key);
  w.Uint64(t.received);
  if (group) {
    w.Key("expected_deliveries");
    w.Uint64(t.acked * shape_.deliveries_per_message);
  }
  if (shape_.counts_receipts) {
    w.Key("receipts");
    w.Uint64(t.receipts);
  }
  w.Key("received_unacked");
  w.Uint64(tally.received_unacked);
  w.Key("stored_twice");
  w.Uint64(t.stored_twice);
  w.Key("unexpected");
  w.Uint64(t.unexpected);
  w.Key("drained");
  w.Bool(out.drained);
  w.EndObject();
  CpuReport cpu;
  cpu.before = out.before;
  cpu.after = out.after;
  cpu.units = t.measured_acked;
  cpu.rss_before = out.rss_before;
  cpu.rss_after = out.rss_after;
  // With several deliveries per message, the server's CPU per delivery too.
  auto per_delivery = [&](JsonWriter& jw) {
    if (!group || !out.before.server_us || !out.after.server_us) return;
    const auto us = static_cast<double>(*out.after.server_us - *out.before.server_us);
    jw.Key("cpu_us_per_delivery");
    jw.Double(t.measured_received == 0 ? 0.0 : us / static_cast<double>(t.measured_received));
  };
  write_cpu(w, o_, cpu, per_delivery);
  return finish_result(w, buf, failures, errors_);
}

}  // namespace parley::bench
