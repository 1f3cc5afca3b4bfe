#include "parley-bench/message_clients.hpp"

#include <utility>

#include <fmt/format.h>

#include "parley-bench/proc_stats.hpp"

namespace parley::bench {
namespace {

// Read buffers start at this size and grow when a batch does not fit.
constexpr std::size_t kReadBuffer = 64U << 10;
// Ack ids stay below the Socket.IO limit the server enforces (2^31 - 1).
constexpr std::uint32_t kMaxAckId = 0x7fffffff;

bool ack_ok(std::string_view data) {
  // The server writes `[{"ok":true,...`: the common case without a scan.
  if (data.starts_with(R"([{"ok":true)")) return true;
  const auto open = data.find('{');
  if (open == std::string_view::npos) return false;
  const auto ok = find_member(data.substr(open), "ok");
  return ok && *ok == "true";
}

// A message:received event into `inbox`, counted in `stats`.
void take_message(const EventView& event, Inbox& inbox, MessageStats& stats, Phase phase) {
  const auto message = find_member(event.first_arg, "message");
  if (!message) return stats.unexpected.add();
  const Inbox::Accepted a = inbox.accept(*message);
  switch (a.verdict) {
    case Inbox::Verdict::unexpected: return stats.unexpected.add();
    case Inbox::Verdict::duplicate_id: return stats.duplicated.add();
    case Inbox::Verdict::seq_twice: stats.stored_twice.add(); break;
    case Inbox::Verdict::first: break;
  }
  stats.received.add();
  if (phase == Phase::measure) {
    stats.measured_received.add();
    stats.receipt_ns.record(monotonic_ns() - a.sent_ns);
  }
}

}  // namespace

std::string send_head(std::string_view address, std::string_view text) {
  return fmt::format(R"(["message:send",{{{},"text":"{}","tempId":")", address, text);
}

WindowSender::WindowSender(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
                           const LoadShared& shared, MessageStats& stats, std::string head)
    : SocketClient(io, ctx, errors, kReadBuffer),
      shared_(shared),
      stats_(stats),
      head_(std::move(head)),
      slots_(shared.window) {}

void WindowSender::begin_sending() {
  if (conn_.state() != WsConnection::State::connected) return;
  for (std::size_t i = 0; i < slots_.size(); ++i) send(i);
  conn_.flush();
}

void WindowSender::send(std::size_t slot) {
  Slot& s = slots_[slot];
  const std::uint64_t window = slots_.size();
  std::uint64_t id = std::uint64_t{s.generation} * window + slot;
  if (id > kMaxAckId) {
    s.generation = 0;
    id = slot;
  }
  ++s.generation;
  s.ack_id = static_cast<std::uint32_t>(id);
  s.busy = true;
  s.seq = next_seq_++;
  s.sent_ns = monotonic_ns();

  std::string& p = conn_.begin_packet();
  p += '2';
  append_number(p, s.ack_id);
  p += head_;
  append_number(p, s.seq);
  p += '.';
  append_number(p, s.sent_ns);
  p += R"("}])";
  conn_.end_packet();
  stats_.sent.add();
  if (shared_.now() == Phase::measure) stats_.measured_sent.add();
}

void WindowSender::on_packet(WsConnection& /*conn*/, const SioPacket& packet) {
  if (packet.type == '3') return on_ack(packet);
  if (packet.id) ack_empty(*packet.id);
  const auto event = parse_event(packet.data);
  if (!event) return;
  if (event->name == "message:delivered") {
    stats_.receipts.add();
    if (shared_.now() == Phase::measure) stats_.measured_receipts.add();
    return;
  }
  on_event(*event);
}

void WindowSender::on_ack(const SioPacket& packet) {
  if (!packet.id) return stats_.unexpected.add();
  const std::size_t slot = *packet.id % slots_.size();
  Slot& s = slots_[slot];
  if (!s.busy || s.ack_id != *packet.id) return stats_.unexpected.add();
  s.busy = false;
  const Phase phase = shared_.now();
  if (ack_ok(packet.data)) {
    stats_.acked.add();
    acked_.set(s.seq);
    if (phase == Phase::measure) {
      stats_.measured_acked.add();
      stats_.ack_ns.record(monotonic_ns() - s.sent_ns);
    }
  } else {
    stats_.nacked.add();
    const std::string_view data =
        packet.data.substr(0, std::min<std::size_t>(packet.data.size(), 200));
    errors_.add(fmt::format("message:send refused: {}", data));
  }
  if (phase == Phase::warmup || phase == Phase::measure) send(slot);
}

Receiver::Receiver(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
                   const LoadShared& shared, MessageStats& stats, Inbox inbox)
    : SocketClient(io, ctx, errors, kReadBuffer),
      shared_(shared),
      stats_(stats),
      inbox_(std::move(inbox)) {}

void Receiver::on_packet(WsConnection& /*conn*/, const SioPacket& packet) {
  if (packet.type != '2') return stats_.unexpected.add();
  if (packet.id) ack_empty(*packet.id);
  const auto event = parse_event(packet.data);
  if (!event || event->name != "message:received") return;
  take_message(*event, inbox_, stats_, shared_.now());
}

GroupSender::GroupSender(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
                         const LoadShared& shared, MessageStats& stats, std::string head,
                         Inbox inbox)
    : WindowSender(io, ctx, errors, shared, stats, std::move(head)), inbox_(std::move(inbox)) {}

void GroupSender::on_event(const EventView& event) {
  if (event.name == "message:received") take_message(event, inbox_, stats_, shared_.now());
}

}  // namespace parley::bench
