#include "engineio/session_fsm.hpp"

#include <cstdlib>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace parley::engineio {

namespace {

constexpr std::string_view kSlowConsumer = "slow consumer";
constexpr std::string_view kPingTimeout = "ping timeout";

std::string packet_text(PacketType type, std::string data = {}) {
  return encode_text(Packet{type, std::move(data), false});
}

}  // namespace

std::string_view error_message(EioError e) {
  switch (e) {
    case EioError::unknown_transport: return "Transport unknown";
    case EioError::unknown_sid: return "Session ID unknown";
    case EioError::bad_handshake_method: return "Bad handshake method";
    case EioError::bad_request: return "Bad request";
    case EioError::forbidden: return "Forbidden";
    case EioError::unsupported_protocol_version: return "Unsupported protocol version";
  }
  return "Bad request";
}

Action& Actions::push(Action::Kind kind) {
  // More would be a bug in SessionFsm (the longest batch is a close).
  if (items_.size() == kCapacity) std::abort();
  Action& a = items_.emplace_back();
  a.kind = kind;
  return a;
}

SessionFsm::SessionFsm(std::string sid, SessionOptions options)
    : sid_(std::move(sid)), opt_(options) {}

Actions SessionFsm::resume(Event event) {
  Actions out;
  std::visit([this, &out](auto&& e) { on(std::forward<decltype(e)>(e), out); }, std::move(event));
  return out;
}

std::string SessionFsm::handshake(bool websocket) const {
  return fmt::format(
      R"({{"sid":"{}","upgrades":{},"pingInterval":{},"pingTimeout":{},"maxPayload":{}}})", sid_,
      websocket ? "[]" : R"(["websocket"])", opt_.ping_interval.count(), opt_.ping_timeout.count(),
      opt_.max_payload);
}

// --- events ------------------------------------------------------------------

void SessionFsm::on(event::Open e, Actions& out) {
  if (closed()) return;
  if (e.websocket) {
    ws_ = Ws::main;
    push(Packet{PacketType::open, handshake(true), false});
    drain_ws(out);  // once the WebSocket is open
  } else {
    out.push(Action::Kind::reply_payload).data = packet_text(PacketType::open, handshake(false));
  }
  schedule_ping(out);
}

bool SessionFsm::refuse_poll(Actions& out) {
  if (closed()) {
    out.push(Action::Kind::reply_error).error = EioError::unknown_sid;
    return true;
  }
  if (ws_ == Ws::main) {
    out.push(Action::Kind::reply_error).error = EioError::bad_request;
    return true;
  }
  return false;
}

void SessionFsm::on(event::PollGet /*e*/, Actions& out) {
  if (lingering()) {
    // The last poll of a closed session: what was queued, then "1".
    state_ = State::closed;
    out.push(Action::Kind::cancel_timer).timer = Timer::upgrade;
    out.push(Action::Kind::forget);
    if (ws_ == Ws::probe) {
      ws_closing_ = true;
      drain_ws(out);
    }
    out.push(Action::Kind::reply_payload).data = take_queue_payload();
    return;
  }
  if (refuse_poll(out)) return;
  if (poll_held_) {
    // Two concurrent GETs: the protocol closes the session.
    out.push(Action::Kind::reply_error).error = EioError::bad_request;
    out.push(Action::Kind::count_protocol_error);
    close("transport error", false, out);
    return;
  }
  out.push(Action::Kind::hold_poll);
  poll_held_ = true;
  if (backlog() > 0) return flush(out);
  if (ws_ == Ws::probe) {
    // Upgrading: end this poll soon with a noop so the client can pause
    // polling, unless the upgrade completes first.
    Action& a = out.push(Action::Kind::start_timer);
    a.timer = Timer::upgrade;
    a.delay = kUpgradeNoopDelay;
  }
}

void SessionFsm::on(event::PollPost e, Actions& out) {
  if (refuse_poll(out)) return;
  if (e.body.size() > opt_.max_payload) {
    Action& a = out.push(Action::Kind::reply_error);
    a.status = 413;
    out.push(Action::Kind::count_protocol_error);
    close("transport error", false, out);
    return;
  }
  auto packets = decode_payload(e.body);
  if (!packets) {
    out.push(Action::Kind::reply_error);
    protocol_error("parse error", out);
    return;
  }
  input_ = std::move(*packets);
  next_input_ = 0;
  posting_ = true;
  process_input(out);
}

void SessionFsm::on(event::ProbeStart /*e*/, Actions& /*out*/) {
  if (!accepts_probe()) return;  // the owner refuses such a WebSocket
  ws_ = Ws::probe;
  ws_ready_ = false;
  ws_writing_ = false;
  ws_closing_ = false;
  probe_pongs_ = 0;
}

void SessionFsm::on(event::WsOpen /*e*/, Actions& out) {
  if (ws_ == Ws::none) return;
  ws_ready_ = true;
  drain_ws(out);
}

void SessionFsm::on(event::WsFrame e, Actions& out) {
  if (closed()) {
    if (lingering() && ws_ == Ws::probe && !e.binary && !e.data.empty() &&
        e.data[0] == static_cast<char>(PacketType::upgrade)) {
      // Closed mid-upgrade: the client completes the upgrade, then hears the
      // close (and anything queued) on its new transport.
      state_ = State::closed;
      out.push(Action::Kind::cancel_timer).timer = Timer::upgrade;
      out.push(Action::Kind::forget);
      ws_ = Ws::main;
      ws_closing_ = true;
      drain_ws(out);
    }
    return;
  }
  std::optional<Packet> p;
  if (e.binary)
    p = decode_binary(e.data);
  else
    p = decode_text(e.data);
  if (!p) return protocol_error("parse error", out);
  if (ws_ == Ws::probe) return on_probe_frame(*p, out);
  if (ws_ == Ws::main) on_packet(std::move(*p), out);
}

void SessionFsm::on(event::WsWritten /*e*/, Actions& out) {
  if (ws_ == Ws::none) return;
  ws_writing_ = false;
  writing_bytes_ = 0;
  drain_ws(out);
}

void SessionFsm::on(event::WsClosed /*e*/, Actions& out) {
  const Ws was = ws_;
  ws_ = Ws::none;
  ws_ready_ = false;
  ws_writing_ = false;
  ws_closing_ = false;
  writing_bytes_ = 0;
  probe_pongs_ = 0;
  // A probe that fails leaves the session polling. The session's own
  // WebSocket gone, nothing queued can reach the peer any more.
  if (was != Ws::main) return;
  queue_.clear();
  head_ = 0;
  queue_bytes_ = 0;
  close("transport close", false, out);
}

void SessionFsm::on(event::Send e, Actions& out) {
  enqueue(Packet{PacketType::message, std::move(e.data), e.binary}, out);
}

void SessionFsm::on(event::Close e, Actions& out) {
  close(e.reason, false, out);
}

void SessionFsm::on(event::TimerFired e, Actions& out) {
  if (e.timer == Timer::heartbeat) {
    if (closed()) return;
    if (waiting_pong_) return close(kPingTimeout, false, out);
    waiting_pong_ = true;
    if (!enqueue(Packet{PacketType::ping, {}, false}, out)) return;
    Action& a = out.push(Action::Kind::start_timer);
    a.timer = Timer::heartbeat;
    a.delay = opt_.ping_timeout;
    return;
  }
  if (lingering()) {
    // Nobody came for the last packets.
    state_ = State::closed;
    out.push(Action::Kind::forget);
    queue_.clear();
    head_ = 0;
    queue_bytes_ = 0;
    if (ws_ == Ws::probe) {
      ws_closing_ = true;
      drain_ws(out);
    }
    return;
  }
  if (!closed() && poll_held_ && ws_ != Ws::main) {
    respond_poll(packet_text(PacketType::noop), out);
  }
}

void SessionFsm::on(event::Continue /*e*/, Actions& out) {
  process_input(out);
}

// --- rules ---------------------------------------------------------------------

void SessionFsm::on_probe_frame(const Packet& p, Actions& out) {
  if (p.type == PacketType::ping && p.data == "probe") {
    ++probe_pongs_;
    drain_ws(out);
    if (poll_held_ && backlog() == 0) respond_poll(packet_text(PacketType::noop), out);
    return;
  }
  if (p.type == PacketType::upgrade) {
    ws_ = Ws::main;
    out.push(Action::Kind::cancel_timer).timer = Timer::upgrade;
    if (poll_held_) {
      poll_held_ = false;
      out.push(Action::Kind::respond_poll_error).error = EioError::bad_request;
    }
    flush(out);
  }
  // Anything else on a probe is ignored.
}

void SessionFsm::on_packet(Packet p, Actions& out) {
  switch (p.type) {
    case PacketType::message: {
      Action& a = out.push(Action::Kind::deliver);
      a.data = std::move(p.data);
      a.binary = p.binary;
      return;
    }
    case PacketType::pong:
      if (waiting_pong_) schedule_ping(out);
      return;
    case PacketType::close: close("transport close", true, out); return;
    case PacketType::ping:  // v3 clients; answer in kind
      enqueue(Packet{PacketType::pong, std::move(p.data), false}, out);
      return;
    case PacketType::noop:
    case PacketType::upgrade: return;
    case PacketType::open: protocol_error("parse error", out); return;
  }
}

void SessionFsm::process_input(Actions& out) {
  if (!posting_) return;
  while (next_input_ < input_.size() && !closed()) {
    Packet p = std::move(input_[next_input_++]);
    const bool message = p.type == PacketType::message;
    on_packet(std::move(p), out);
    // The layer above sees the message before anything else happens; the
    // owner resumes with Continue.
    if (message && !closed()) return;
  }
  input_.clear();
  next_input_ = 0;
  posting_ = false;
  out.push(Action::Kind::reply_ok);
}

void SessionFsm::schedule_ping(Actions& out) {
  waiting_pong_ = false;
  Action& a = out.push(Action::Kind::start_timer);
  a.timer = Timer::heartbeat;
  a.delay = opt_.ping_interval;
}

bool SessionFsm::enqueue(Packet p, Actions& out) {
  if (closed()) return false;
  push(std::move(p));
  // Whatever waits for this peer counts, the frame being written included.
  // Checked after adding: the queue never stays over its bounds.
  if (backlog() > opt_.max_queue_packets || queue_bytes_ + writing_bytes_ > opt_.max_queue_bytes) {
    out.push(Action::Kind::count_slow_consumer);
    close(kSlowConsumer, false, out);
    return false;
  }
  flush(out);
  return true;
}

void SessionFsm::push(Packet p) {
  queue_bytes_ += p.data.size() + 1;
  queue_.push_back(std::move(p));
}

void SessionFsm::flush(Actions& out) {
  if (ws_ == Ws::main) return drain_ws(out);
  if (poll_held_ && backlog() > 0) respond_poll(take_queue_payload(), out);
}

// The one drain loop of the WebSocket: a frame at a time, each written
// before the next is taken from the queue.
void SessionFsm::drain_ws(Actions& out) {
  if (ws_ == Ws::none || !ws_ready_ || ws_writing_) return;
  if (probe_pongs_ > 0) {
    --probe_pongs_;
    Action& a = out.push(Action::Kind::ws_write);
    a.messages.push_back(WsMessage{"probe", static_cast<char>(PacketType::pong), false});
    ws_writing_ = true;
    writing_bytes_ = a.messages.back().size();
    return;
  }
  if (ws_ == Ws::main && backlog() > 0) {
    // Everything queued goes out in one write (up to kMaxWriteBytes): a
    // burst for this peer costs one syscall, not one per packet.
    Action& a = out.push(Action::Kind::ws_write);
    writing_bytes_ = 0;
    while (head_ < queue_.size() && (a.messages.empty() || writing_bytes_ < kMaxWriteBytes)) {
      Packet& p = queue_[head_++];
      queue_bytes_ -= p.data.size() + 1;
      WsMessage m{std::move(p.data), p.binary ? '\0' : static_cast<char>(p.type), p.binary};
      writing_bytes_ += m.size();
      a.messages.push_back(std::move(m));
    }
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
    }
    ws_writing_ = true;
    return;
  }
  if (ws_closing_) {
    out.push(Action::Kind::ws_close);
    ws_ = Ws::none;
    ws_closing_ = false;
  }
}

void SessionFsm::respond_poll(std::string body, Actions& out) {
  poll_held_ = false;
  out.push(Action::Kind::respond_poll).data = std::move(body);
}

void SessionFsm::protocol_error(std::string_view reason, Actions& out) {
  out.push(Action::Kind::count_protocol_error);
  close(reason, false, out);
}

// `by_client`: the peer sent a close packet (a held poll then ends with a
// noop); otherwise the server closes (a held poll gets the close packet).
void SessionFsm::close(std::string_view reason, bool by_client, Actions& out) {
  if (closed()) return;
  out.push(Action::Kind::cancel_timer).timer = Timer::heartbeat;
  out.push(Action::Kind::cancel_timer).timer = Timer::upgrade;
  // Polling with no GET to carry the news: keep the sid until the client
  // collects the queued packets and the close packet with its next poll,
  // or (mid-upgrade, its polling paused) finishes the upgrade on the probe
  // and gets the close there; or until a ping timeout passes. A client that
  // sent the close packet waits for neither.
  const bool linger = !by_client && ws_ != Ws::main && !poll_held_ && reason != kSlowConsumer &&
                      reason != kPingTimeout && (backlog() > 0 || ws_ == Ws::probe);
  if (linger) {
    state_ = State::lingering;
    push(Packet{PacketType::close, {}, false});
    Action& a = out.push(Action::Kind::start_timer);
    a.timer = Timer::upgrade;
    a.delay = opt_.ping_timeout;
  } else {
    state_ = State::closed;
    out.push(Action::Kind::forget);
  }
  if (poll_held_) {
    push(Packet{by_client ? PacketType::noop : PacketType::close, {}, false});
    respond_poll(take_queue_payload(), out);
  }
  if (ws_ == Ws::main) {
    if (reason == kSlowConsumer) {
      // What is queued would never be read, and a peer that does not read
      // would never let a graceful close finish.
      queue_.clear();
      head_ = 0;
      queue_bytes_ = 0;
      out.push(Action::Kind::ws_abort);
      ws_ = Ws::none;
      ws_writing_ = false;
      writing_bytes_ = 0;
    } else {
      ws_closing_ = true;  // after what is queued (e.g. a DISCONNECT packet)
      drain_ws(out);
    }
  }
  if (ws_ == Ws::probe && !lingering()) {
    ws_closing_ = true;
    drain_ws(out);
  }
  out.push(Action::Kind::notify_closed).data = std::string(reason);
}

std::string SessionFsm::take_queue_payload() {
  if (head_ > 0) queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
  std::string body = encode_payload(queue_);
  queue_.clear();
  head_ = 0;
  queue_bytes_ = 0;
  return body;
}

}  // namespace parley::engineio
