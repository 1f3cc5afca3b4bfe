// parley::engineio session state machine: the protocol rules of one
// Engine.IO session with no I/O, no clock and no threads.
//
// The owner (server.cpp) turns what happens on sockets and timers into an
// Event, calls resume(event) and does the Actions it gets back, in order:
// answer a request, write one WebSocket frame, start a timer, hand a message
// to the layer above. Tests drive resume() alone (the shape of Boost.Redis's
// exec_fsm).
//
// What it decides: the heartbeat (ping every ping_interval, closed when no
// pong comes within ping_timeout); the held GET, duplicate GETs and 413 over
// max_payload; the upgrade from polling to WebSocket (probe, noop to the held
// poll, switch on the upgrade packet); one outbound queue bounded in packets
// and bytes (a peer over it is a slow consumer, closed at once); lingering
// after a close so that a polling peer still collects its last packets.
//
// The WebSocket: a session has at most one (a WebSocket-only session's, or the
// probe of an upgrade, which becomes the session's when the upgrade
// completes); a second one is refused by the owner (accepts_probe()). Its
// writes are one at a time: ws_write, then a WsWritten event before the next
// ws_write. That is the session's only drain loop: the queue is written from
// here, frame by frame, and nothing else queues frames.
//
// Re-entrancy: a `deliver` action ends its batch. The owner hands the message
// to the layer above, which may call resume() (Send, Close) from there; then,
// while has_input(), the owner resumes with Continue to go on with the rest
// of a polling payload. Nothing is delivered once the session is closed.
//
// Threads: not thread-safe; its owner calls it on the session's thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/container/static_vector.hpp>

#include "engineio/codec.hpp"

namespace parley::engineio {

struct SessionOptions {
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  std::size_t max_payload = 1000000;  // bytes per polling body (announced in the handshake)
  std::size_t max_queue_packets = 4096;
  std::size_t max_queue_bytes = 8 * 1024 * 1024;
};

// Engine.IO's error codes (the "code" of an HTTP error body).
enum class EioError {
  unknown_transport = 0,
  unknown_sid = 1,
  bad_handshake_method = 2,
  bad_request = 3,
  forbidden = 4,
  unsupported_protocol_version = 5
};
std::string_view error_message(EioError e);

// While polling during an upgrade, a GET held this long with nothing to send
// is ended with a noop, so that the client can pause polling.
inline constexpr std::chrono::milliseconds kUpgradeNoopDelay{100};

// One WebSocket write carries the queued packets up to this many bytes (at
// least one packet, whatever its size).
inline constexpr std::size_t kMaxWriteBytes = 256 * 1024;

// The two timers a session owns. `heartbeat`: the next ping, then the wait
// for its pong. `upgrade`: the noop for a GET held during an upgrade, and
// the lingering of a closed session. Starting a timer replaces its wait.
enum class Timer { heartbeat, upgrade };

namespace event {
// The handshake is answered (polling) or the WebSocket accepted
// (WebSocket-only session). First event, once.
struct Open {
  bool websocket = false;
};
// A polling GET; it is answered at once or held (hold_poll).
struct PollGet {};
// A polling POST with its body.
struct PollPost {
  std::string_view body;
};
// A WebSocket for the upgrade (the probe) is being accepted; only when
// accepts_probe().
struct ProbeStart {};
// The session's WebSocket completed its handshake: frames may be written.
struct WsOpen {};
// A frame from the session's WebSocket.
struct WsFrame {
  std::string_view data;
  bool binary = false;
};
// The frame of the last ws_write is written.
struct WsWritten {};
// The session's WebSocket is gone (read or accept failed, peer closed).
struct WsClosed {};
// The layer above sends a message.
struct Send {
  std::string data;
  bool binary = false;
};
// The layer above (or shutdown) closes the session.
struct Close {
  std::string_view reason;
};
struct TimerFired {
  Timer timer = Timer::heartbeat;
};
// Go on after a `deliver` (see has_input()).
struct Continue {};
}  // namespace event

using Event = std::variant<event::Open, event::PollGet, event::PollPost, event::ProbeStart,
                           event::WsOpen, event::WsFrame, event::WsWritten, event::WsClosed,
                           event::Send, event::Close, event::TimerFired, event::Continue>;

// One WebSocket message to write: for text, the Engine.IO packet type
// character, then `data`; for binary, `data` alone. The type is kept apart so
// that the packet's bytes are written as they are, never copied to prefix it.
struct WsMessage {
  std::string data;
  char type = 0;  // text only
  bool binary = false;
  std::size_t size() const { return data.size() + (binary ? 0 : 1); }
};

struct Action {
  enum class Kind {
    // The request being handled (the GET or POST of this event, or the POST
    // whose payload a Continue goes on with):
    reply_ok,       // 200 "ok" (a POST)
    reply_payload,  // 200 with the payload `data` (a GET)
    reply_error,    // Engine.IO error `error` with HTTP `status`
    hold_poll,      // keep it (a GET) as the held poll
    // The rest:
    respond_poll,        // the held poll: 200 with the payload `data`
    respond_poll_error,  // the held poll: Engine.IO error `error`, `status`
    ws_write,            // write `messages`, in order, in one go; WsWritten follows
    ws_close,            // close the WebSocket (a close frame; nothing is left to write)
    ws_abort,            // close the WebSocket's TCP connection now
    start_timer,         // `timer` fires after `delay`
    cancel_timer,        // `timer`
    deliver,             // a message `data`/`binary` for the layer above; ends the batch
    notify_closed,       // the layer above hears the close, with the reason `data`; once
    forget,              // the session leaves the registry (its sid is unknown); once
    count_protocol_error,
    count_slow_consumer,
  };
  Kind kind = Kind::reply_ok;
  std::string data;
  bool binary = false;
  std::vector<WsMessage> messages;  // ws_write
  EioError error = EioError::bad_request;
  int status = 400;
  Timer timer = Timer::heartbeat;
  std::chrono::milliseconds delay{0};
};

// The actions of one resume(), in the order they are to be done. Fixed
// capacity, in place, and only the actions pushed are ever constructed:
// resume() runs for every message sent, most of them pushing one action,
// and a close (the longest batch) needs fewer than kCapacity.
class Actions {
 public:
  static constexpr std::size_t kCapacity = 12;
  Action& push(Action::Kind kind);
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  Action& operator[](std::size_t i) { return items_[i]; }
  const Action& operator[](std::size_t i) const { return items_[i]; }
  Action* begin() { return items_.data(); }
  Action* end() { return items_.data() + items_.size(); }
  const Action* begin() const { return items_.data(); }
  const Action* end() const { return items_.data() + items_.size(); }

 private:
  boost::container::static_vector<Action, kCapacity> items_;
};

class SessionFsm {
 public:
  SessionFsm(std::string sid, SessionOptions options);

  Actions resume(Event event);

  // The session is closed (possibly still lingering).
  bool closed() const { return state_ != State::open; }
  // Still registered after its close, for one last poll or the end of an
  // upgrade.
  bool lingering() const { return state_ == State::lingering; }
  bool upgraded() const { return ws_ == Ws::main; }
  bool upgrading() const { return ws_ == Ws::probe; }
  // A WebSocket for the upgrade may start now (open, polling, none yet).
  bool accepts_probe() const { return state_ == State::open && ws_ == Ws::none; }
  // A POST's payload is being processed (stopped at a `deliver`), not yet
  // answered: resume with Continue.
  bool has_input() const { return posting_; }
  // Packets queued and not yet written to the peer (polling: not yet
  // fetched by a GET); the frame being written is not counted.
  std::size_t backlog() const { return queue_.size() - head_; }
  // The handshake (the open packet's JSON).
  std::string handshake(bool websocket) const;

 private:
  enum class State { open, lingering, closed };
  // The session's WebSocket: none (polling), the probe of an upgrade, or
  // the transport (WebSocket-only or upgraded).
  enum class Ws { none, probe, main };

  void on(event::Open e, Actions& out);
  void on(event::PollGet e, Actions& out);
  void on(event::PollPost e, Actions& out);
  void on(event::ProbeStart e, Actions& out);
  void on(event::WsOpen e, Actions& out);
  void on(event::WsFrame e, Actions& out);
  void on(event::WsWritten e, Actions& out);
  void on(event::WsClosed e, Actions& out);
  void on(event::Send e, Actions& out);
  void on(event::Close e, Actions& out);
  void on(event::TimerFired e, Actions& out);
  void on(event::Continue e, Actions& out);

  // A polling request on a closed session (unknown sid) or on one that
  // moved to WebSocket (bad request) is answered with the error: true then.
  bool refuse_poll(Actions& out);
  void on_probe_frame(const Packet& p, Actions& out);
  void on_packet(Packet p, Actions& out);
  void process_input(Actions& out);
  void schedule_ping(Actions& out);
  // Queues a packet and checks the bounds (closing a slow consumer).
  bool enqueue(Packet p, Actions& out);
  void push(Packet p);  // no checks
  void flush(Actions& out);
  void drain_ws(Actions& out);
  void respond_poll(std::string body, Actions& out);
  void protocol_error(std::string_view reason, Actions& out);
  void close(std::string_view reason, bool by_client, Actions& out);
  std::string take_queue_payload();

  const std::string sid_;
  const SessionOptions opt_;
  State state_ = State::open;
  Ws ws_ = Ws::none;
  bool ws_ready_ = false;          // its handshake is done
  bool ws_writing_ = false;        // a ws_write is in flight
  bool ws_closing_ = false;        // close the WebSocket once the queue is written
  std::size_t probe_pongs_ = 0;    // "3probe" frames owed to the probe
  std::size_t writing_bytes_ = 0;  // size of the messages in flight
  bool poll_held_ = false;
  bool waiting_pong_ = false;
  // Packets for the peer, queue_[head_] first. A vector, emptied (and head_
  // reset) when drained: an idle session holds no allocation for it.
  std::vector<Packet> queue_;
  std::size_t head_ = 0;
  std::size_t queue_bytes_ = 0;
  // A polling payload being processed (see has_input()).
  std::vector<Packet> input_;
  std::size_t next_input_ = 0;
  bool posting_ = false;  // a POST's payload is being processed, not yet answered
};

}  // namespace parley::engineio
