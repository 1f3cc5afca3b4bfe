#include "parley-bench/pairs_clients.hpp"

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

}  // namespace

PairSender::PairSender(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
                       const PairsShared& shared, PairsStats& stats, const std::string& receiver_id)
    : SocketClient(io, ctx, errors, kReadBuffer),
      shared_(shared),
      stats_(stats),
      head_(fmt::format(R"(["message:send",{{"to":"{}","text":"{}","tempId":")", receiver_id,
                        shared.text)),
      slots_(shared.window) {}

void PairSender::begin_sending() {
  if (conn_.state() != WsConnection::State::connected) return;
  for (std::size_t i = 0; i < slots_.size(); ++i) send(i);
  conn_.flush();
}

void PairSender::send(std::size_t slot) {
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

void PairSender::on_packet(WsConnection& /*conn*/, const SioPacket& packet) {
  if (packet.type == '3') return on_ack(packet);
  // Events (message:delivered, presence) need nothing but an ack if asked.
  if (packet.id) ack_empty(*packet.id);
}

void PairSender::on_ack(const SioPacket& packet) {
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

PairReceiver::PairReceiver(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
                           const PairsShared& shared, PairsStats& stats,
                           const std::string& sender_id)
    : SocketClient(io, ctx, errors, kReadBuffer),
      shared_(shared),
      stats_(stats),
      sender_id_(sender_id) {}

void PairReceiver::on_packet(WsConnection& /*conn*/, const SioPacket& packet) {
  if (packet.type != '2') return stats_.unexpected.add();
  if (packet.id) ack_empty(*packet.id);
  const auto event = parse_event(packet.data);
  if (!event || event->name != "message:received") return;
  const auto message = find_member(event->first_arg, "message");
  if (!message) return stats_.unexpected.add();
  on_message(*message);
}

void PairReceiver::on_message(std::string_view message) {
  std::string_view id;
  std::string_view temp_id;
  std::string_view from;
  const bool ok = for_each_member(message, [&](std::string_view key, std::string_view value) {
    if (key == "_id") {
      id = value;
    } else if (key == "from") {
      from = value;
    } else if (key == "tempId") {
      temp_id = value;
    }
    return true;
  });
  const auto dot = temp_id.find('.');
  const auto seq = parse_u64(temp_id.substr(0, dot));
  const auto sent_ns =
      dot == std::string_view::npos ? std::nullopt : parse_u64(temp_id.substr(dot + 1));
  if (!ok || from != sender_id_ || !seq || !sent_ns) return stats_.unexpected.add();
  switch (ids_.insert(id)) {
    case IdSet::Insert::malformed: return stats_.unexpected.add();
    case IdSet::Insert::present: return stats_.duplicated.add();
    case IdSet::Insert::added: break;
  }
  stats_.received.add();
  if (!received_.set(*seq)) stats_.stored_twice.add();
  if (shared_.now() == Phase::measure) {
    stats_.measured_received.add();
    stats_.receipt_ns.record(monotonic_ns() - *sent_ns);
  }
}

}  // namespace parley::bench
