#include "engineio/server.hpp"

#include <utility>  // before Asio (g++ 12)

#include <openssl/rand.h>

#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "core/base64.hpp"
#include "core/rate_limiter.hpp"
#include "engineio/codec.hpp"
#include "http/upgrade.hpp"
#include "net/io_pool.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace parley::engineio {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Engine.IO's error codes and messages.
enum class EioError {
  unknown_transport = 0,
  unknown_sid = 1,
  bad_handshake_method = 2,
  bad_request = 3,
  forbidden = 4,
  unsupported_protocol_version = 5
};

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

http::Response error_response(EioError e, int status = 400) {
  http::Response r;
  r.status = status;
  r.body = fmt::format(R"({{"code":{},"message":"{}"}})", static_cast<int>(e), error_message(e));
  return r;
}

http::Response text_response(std::string body) {
  http::Response r;
  r.content_type = "text/plain; charset=UTF-8";
  r.body = std::move(body);
  return r;
}

std::string new_sid() {
  unsigned char bytes[15];
  RAND_bytes(bytes, sizeof bytes);
  return core::base64_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes),
                             core::Base64::url);
}

std::string query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool has_query_key(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == key) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// The upgrade may arrive on another I/O thread than the session's: move the
// connection's file descriptor onto the session's io_context.
tcp::socket rebind(tcp::socket socket, asio::io_context& target) {
  beast::error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  const int fd = ::dup(socket.native_handle());
  socket.close(ec);
  tcp::socket out(target);
  if (fd >= 0) out.assign(protocol, fd, ec);
  return out;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 403: return "Forbidden";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Bad Request";
  }
}

// Answers an upgrade request with the protocol's HTTP error and closes.
void refuse_upgrade(tcp::socket& socket, EioError e, int status = 400) {
  const std::string body =
      fmt::format(R"({{"code":{},"message":"{}"}})", static_cast<int>(e), error_message(e));
  const std::string res = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: "
      "{}\r\nConnection: close\r\n\r\n{}",
      status, status_reason(status), body.size(), body);
  beast::error_code ec;
  asio::write(socket, asio::buffer(res), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

// The handshake headers a session keeps for the application (its
// authentication): the rest would cost memory in every idle session.
bool kept_header(std::string_view lower_name) {
  return lower_name == "cookie" || lower_name == "authorization" || lower_name == "origin" ||
         lower_name == "user-agent";
}

constexpr auto kUpgradeNoopDelay = std::chrono::milliseconds(100);

}  // namespace

class SessionImpl;
class WsTransport;

class Server::Impl : public std::enable_shared_from_this<Server::Impl> {
 public:
  Impl(Options o, net::IoPool& pool, obs::Metrics& m, HandlerFactory f)
      : opt(o),
        io(pool),
        factory(std::move(f)),
        sessions_gauge(&m.gauge("parley_eio_sessions", "Open Engine.IO sessions.")),
        slow_consumers(&m.counter("parley_eio_slow_consumers_total",
                                  "Sessions closed because their peer did not read.")),
        protocol_errors(&m.counter("parley_eio_protocol_errors_total",
                                   "Sessions closed for a malformed or oversized packet.")),
        handshakes_refused(&m.counter(
            "parley_eio_handshakes_refused_total",
            "Handshakes refused: session table full, per-IP caps or per-IP handshake rate.")),
        handshake_limiter(o.handshakes_per_ip_per_sec, o.handshakes_per_ip_burst,
                          o.handshake_rate_limited) {}

  void handle_polling(const http::Request& req, const http::Reply& reply);
  void handle_upgrade(tcp::socket socket, http::UpgradeRequest req, std::string client_ip,
                      std::shared_ptr<void> slot);
  std::shared_ptr<SessionImpl> find(const std::string& sid);
  // A new registered session, or the reason it is refused.
  struct Created {
    std::shared_ptr<SessionImpl> session;
    EioError error = EioError::forbidden;
    int status = 403;
  };
  Created create(asio::io_context& ctx, Handshake hs);
  // Session thread of `s`: drops it from the registry and its IP's counts.
  void forget(SessionImpl& s);
  void connected(SessionImpl& s);

  Options opt;
  net::IoPool& io;
  HandlerFactory factory;
  obs::Gauge* sessions_gauge;
  obs::Counter* slow_consumers;
  obs::Counter* protocol_errors;
  obs::Counter* handshakes_refused;
  core::RateLimiter handshake_limiter;
  struct IpUse {
    std::size_t sessions = 0;
    std::size_t pending = 0;  // not yet accepted by the layer above
  };
  mutable std::mutex mutex;  // guards registry and per_ip
  std::unordered_map<std::string, std::shared_ptr<SessionImpl>> registry;
  std::unordered_map<std::string, IpUse> per_ip;  // entries with sessions > 0
};

// One WebSocket connection, on its session's thread.
class WsTransport : public std::enable_shared_from_this<WsTransport> {
 public:
  WsTransport(tcp::socket socket, std::shared_ptr<void> slot)
      : stream_(std::move(socket)), slot_(std::move(slot)) {}

  void start(std::weak_ptr<SessionImpl> session, http::UpgradeRequest req, std::size_t max_payload);
  // Completes the WebSocket handshake, then closes at once (a second
  // WebSocket for a session that already has one).
  void accept_and_close(http::UpgradeRequest req) {
    req_ = std::move(req);  // kept alive until the handshake completes
    stream_.async_accept(req_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->do_close();
    });
  }
  // Session thread: queue a frame (the session bounds the queue).
  void write(std::string data, bool binary);
  // Close after the queued frames are written.
  void close();
  // Closes the TCP connection now, dropping what is queued (a peer that
  // does not read would never let a graceful close finish).
  void abort() {
    closed_ = true;
    queue_.clear();
    head_ = 0;
    queued_bytes_ = 0;  // current_ stays alive until its write completes
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }
  bool writing() const { return writing_; }
  std::size_t queued() const { return queue_.size() - head_; }
  std::size_t queued_bytes() const { return queued_bytes_; }

 private:
  void do_read();
  void do_write();
  void do_close();

  ws::stream<beast::tcp_stream> stream_;
  std::shared_ptr<void> slot_;  // the connection's place under MAX_CONNECTIONS
  http::UpgradeRequest req_;    // the upgrade request, until the handshake is done
  beast::flat_buffer buffer_;
  std::weak_ptr<SessionImpl> session_;
  // Frames to write; queue_[head_] is next. Emptied (and head_ reset) when
  // drained, so an idle connection holds no allocation for it.
  std::vector<std::pair<std::string, bool>> queue_;
  std::size_t head_ = 0;
  std::string current_;  // the frame being written
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

class SessionImpl final : public Session, public std::enable_shared_from_this<SessionImpl> {
 public:
  SessionImpl(std::shared_ptr<Server::Impl> srv, asio::io_context& ctx, std::string sid,
              Handshake hs)
      : srv_(std::move(srv)),
        ctx_(ctx),
        sid_(std::move(sid)),
        hs_(std::move(hs)),
        ping_timer_(ctx),
        noop_timer_(ctx) {}

  // --- Session
  const std::string& id() const override { return sid_; }
  const Handshake& handshake() const override { return hs_; }
  bool closed() const override { return closed_; }
  void mark_connected() override { srv_->connected(*this); }
  // Guarded by the server's mutex (set at creation, cleared by forget() or
  // connected()).
  bool counted_pending_ = true;
  std::size_t backlog() const override {
    return queue_.size() + (transport_ws_ ? transport_ws_->queued() : 0);
  }
  bool send(std::string data, bool binary) override {
    return enqueue(Packet{PacketType::message, std::move(data), binary});
  }
  void close(std::string_view reason) override { close_now(reason, false); }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    if (closed_) return;
    // Kept in timers_ so that close() cancels them: a pending timer must not
    // keep a closed session (and what its function holds) alive.
    timers_.emplace_front(ctx_, delay);
    auto it = timers_.begin();
    it->async_wait([self = shared_from_this(), it, fn = std::move(fn)](beast::error_code ec) {
      if (ec || self->closed_) return;  // cancelled by close(), which clears timers_
      self->timers_.erase(it);
      fn();
    });
  }
  void post(std::function<void()> fn) override {
    asio::post(ctx_, [self = shared_from_this(), fn = std::move(fn)] {
      if (!self->closed_) fn();
    });
  }

  asio::io_context& context() { return ctx_; }
  bool upgraded() const { return transport_ws_ != nullptr; }
  bool upgrading() const { return probe_ != nullptr; }

  // Session thread: after creation.
  void open(bool websocket, std::shared_ptr<WsTransport> ws, std::optional<http::Reply> reply);
  void on_poll_get(http::Reply reply);
  void on_poll_post(const std::string& body, const http::Reply& reply);
  void on_ws_frame(WsTransport* from, const std::string& data, bool binary);
  void on_ws_closed(WsTransport* from);
  void begin_probe(std::shared_ptr<WsTransport> ws) { probe_ = std::move(ws); }
  void on_ws_drained(WsTransport* from) {
    if (from == transport_ws_.get()) flush();
  }

 private:
  bool enqueue(Packet p) {
    if (closed_) return false;
    queue_bytes_ += p.data.size() + 1;
    queue_.push_back(std::move(p));
    // Whatever waits for this peer counts: packets queued here (polling)
    // and frames handed to the WebSocket writer but not yet written.
    std::size_t packets = queue_.size(), bytes = queue_bytes_;
    if (transport_ws_) {
      packets += transport_ws_->queued();
      bytes += transport_ws_->queued_bytes();
    }
    if (packets > srv_->opt.max_queue_packets || bytes > srv_->opt.max_queue_bytes) {
      srv_->slow_consumers->inc();
      close_now("slow consumer", false);
      return false;
    }
    flush();
    return true;
  }

  void flush() {
    if (transport_ws_) {
      // Hand everything queued to the WebSocket writer in this turn.
      for (Packet& p : queue_) {
        if (p.binary)
          transport_ws_->write(std::move(p.data), true);
        else
          transport_ws_->write(encode_text(p), false);
      }
      queue_.clear();
      queue_bytes_ = 0;
      return;
    }
    if (poll_ && !queue_.empty()) {
      std::vector<Packet> out = std::move(queue_);
      queue_.clear();
      queue_bytes_ = 0;
      respond_poll(encode_payload(out));
    }
  }

  void respond_poll(std::string body) {
    auto reply = std::move(*poll_);
    poll_.reset();
    reply(text_response(std::move(body)));
  }

  void schedule_ping() {
    waiting_pong_ = false;
    ping_timer_.expires_after(srv_->opt.ping_interval);
    ping_timer_.async_wait([self = shared_from_this(), gen = ++ping_gen_](beast::error_code ec) {
      if (ec || self->closed_ || gen != self->ping_gen_) return;
      self->waiting_pong_ = true;
      self->enqueue(Packet{PacketType::ping, {}, false});
      if (self->closed_) return;
      self->ping_timer_.expires_after(self->srv_->opt.ping_timeout);
      self->ping_timer_.async_wait([self, gen2 = ++self->ping_gen_](beast::error_code ec2) {
        if (ec2 || self->closed_ || gen2 != self->ping_gen_) return;
        if (self->waiting_pong_) self->close_now("ping timeout", false);
      });
    });
  }

  void on_packet(Packet p) {
    switch (p.type) {
      case PacketType::message:
        if (handler_) handler_->on_message(std::move(p.data), p.binary);
        return;
      case PacketType::pong:
        if (waiting_pong_) schedule_ping();
        return;
      case PacketType::close: close_now("transport close", true); return;
      case PacketType::ping:  // v3 clients; answer in kind
        enqueue(Packet{PacketType::pong, std::move(p.data), false});
        return;
      case PacketType::noop:
      case PacketType::upgrade: return;
      case PacketType::open: protocol_error(); return;
    }
  }

  void protocol_error() {
    srv_->protocol_errors->inc();
    close_now("parse error", false);
  }

  // `by_client`: the peer sent a close packet (a held poll then ends with a
  // noop); otherwise the server closes (a held poll gets the close packet).
  void close_now(std::string_view reason, bool by_client);

  std::shared_ptr<Server::Impl> srv_;
  asio::io_context& ctx_;
  const std::string sid_;
  const Handshake hs_;
  std::shared_ptr<SessionHandler> handler_;
  // Packets not yet handed to a transport. A vector, not a deque: it is
  // always drained whole, and an empty vector costs no allocation (idle
  // sessions are the common case).
  std::vector<Packet> queue_;
  std::size_t queue_bytes_ = 0;
  std::optional<http::Reply> poll_;            // the held GET
  std::shared_ptr<WsTransport> transport_ws_;  // set once upgraded / WebSocket-only
  std::shared_ptr<WsTransport> probe_;         // during an upgrade
  asio::steady_timer ping_timer_;
  asio::steady_timer noop_timer_;
  std::list<asio::steady_timer> timers_;  // after(); cancelled on close
  std::uint64_t ping_gen_ = 0;
  bool waiting_pong_ = false;
  bool closed_ = false;
  bool lingering_ = false;  // closed, kept registered for one last poll
};

// --- WsTransport ---------------------------------------------------------

void WsTransport::start(std::weak_ptr<SessionImpl> session, http::UpgradeRequest req,
                        std::size_t max_payload) {
  session_ = std::move(session);
  stream_.read_message_max(max_payload);
  stream_.auto_fragment(false);
  ws::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = ws::stream_base::none();
  t.keep_alive_pings = false;
  stream_.set_option(t);
  req_ = std::move(req);
  stream_.async_accept(req_, [self = shared_from_this()](beast::error_code ec) {
    self->req_ = {};
    if (ec) {
      if (auto s = self->session_.lock()) s->on_ws_closed(self.get());
      return;
    }
    self->do_read();
    self->do_write();
  });
}

void WsTransport::do_read() {
  stream_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    auto s = self->session_.lock();
    if (ec || !s) {
      self->closed_ = true;
      if (s) s->on_ws_closed(self.get());
      return;
    }
    const bool binary = self->stream_.got_binary();
    std::string data = beast::buffers_to_string(self->buffer_.data());
    self->buffer_.consume(self->buffer_.size());
    if (self->buffer_.capacity() > 16384) self->buffer_.shrink_to_fit();
    s->on_ws_frame(self.get(), data, binary);
    if (!self->closed_) self->do_read();
  });
}

void WsTransport::write(std::string data, bool binary) {
  if (closed_ || closing_) return;
  queued_bytes_ += data.size();
  queue_.emplace_back(std::move(data), binary);
  if (stream_.is_open()) do_write();
}

void WsTransport::do_write() {
  if (writing_ || closed_) return;
  if (head_ == queue_.size()) {
    queue_.clear();
    head_ = 0;
    if (closing_) do_close();
    return;
  }
  // The frame in flight leaves the queue: pushes that grow the vector must
  // not move the bytes being written.
  writing_ = true;
  current_ = std::move(queue_[head_].first);
  stream_.binary(queue_[head_].second);
  ++head_;
  stream_.async_write(asio::buffer(current_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->queued_bytes_ -= std::min(self->queued_bytes_, self->current_.size());
                        self->current_ = std::string();
                        if (ec) {
                          self->closed_ = true;
                          self->queue_.clear();
                          self->head_ = 0;
                          self->queued_bytes_ = 0;
                          beast::error_code ignored;
                          beast::get_lowest_layer(self->stream_).socket().close(ignored);
                          return;
                        }
                        self->do_write();
                      });
}

void WsTransport::close() {
  if (closing_ || closed_) return;
  closing_ = true;
  if (!writing_ && stream_.is_open())
    do_write();
  else if (!stream_.is_open()) {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }
}

void WsTransport::do_close() {
  closed_ = true;
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
  stream_.async_close(ws::close_code::normal, [self = shared_from_this()](beast::error_code) {
    beast::error_code ignored;
    beast::get_lowest_layer(self->stream_).socket().close(ignored);
  });
}

// --- SessionImpl -----------------------------------------------------------

void SessionImpl::open(bool websocket, std::shared_ptr<WsTransport> ws,
                       std::optional<http::Reply> reply) {
  const std::string handshake = fmt::format(
      R"({{"sid":"{}","upgrades":{},"pingInterval":{},"pingTimeout":{},"maxPayload":{}}})", sid_,
      websocket ? "[]" : R"(["websocket"])", srv_->opt.ping_interval.count(),
      srv_->opt.ping_timeout.count(), srv_->opt.max_payload);
  if (websocket) {
    transport_ws_ = std::move(ws);
    transport_ws_->write(encode_text(Packet{PacketType::open, handshake, false}), false);
  } else {
    (*reply)(text_response(encode_text(Packet{PacketType::open, handshake, false})));
  }
  schedule_ping();
  handler_ = srv_->factory(shared_from_this());
}

void SessionImpl::on_poll_get(http::Reply reply) {
  if (closed_ && lingering_) {
    // The last poll of a closed session: what was queued, then "1".
    lingering_ = false;
    noop_timer_.cancel();
    std::vector<Packet> out = std::move(queue_);
    queue_.clear();
    srv_->forget(*this);
    if (probe_) probe_->close();
    return reply(text_response(encode_payload(out)));
  }
  if (closed_) return reply(error_response(EioError::unknown_sid));
  if (transport_ws_) return reply(error_response(EioError::bad_request));
  if (poll_) {
    // Two concurrent GETs: the protocol closes the session.
    reply(error_response(EioError::bad_request));
    srv_->protocol_errors->inc();
    close_now("transport error", false);
    return;
  }
  poll_ = std::move(reply);
  if (!queue_.empty()) return flush();
  if (probe_) {
    // Upgrading: end this poll soon with a noop so the client can pause
    // polling, unless the upgrade completes first.
    noop_timer_.expires_after(kUpgradeNoopDelay);
    noop_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_ || !self->poll_ || self->transport_ws_) return;
      self->respond_poll(encode_text(Packet{PacketType::noop, {}, false}));
    });
  }
}

void SessionImpl::on_poll_post(const std::string& body, const http::Reply& reply) {
  if (closed_) return reply(error_response(EioError::unknown_sid));
  if (transport_ws_) return reply(error_response(EioError::bad_request));
  if (body.size() > srv_->opt.max_payload) {
    reply(error_response(EioError::bad_request, 413));
    srv_->protocol_errors->inc();
    close_now("transport error", false);
    return;
  }
  auto packets = decode_payload(body);
  if (!packets) {
    reply(error_response(EioError::bad_request));
    protocol_error();
    return;
  }
  auto self = shared_from_this();  // handlers may close the session
  for (auto& p : *packets) {
    if (closed_) break;
    on_packet(std::move(p));
  }
  http::Response ok;
  ok.content_type = "text/html";
  ok.body = "ok";
  reply(std::move(ok));
}

void SessionImpl::on_ws_frame(WsTransport* from, const std::string& data, bool binary) {
  if (closed_) {
    if (lingering_ && probe_ && from == probe_.get() && !binary && !data.empty() &&
        data[0] == static_cast<char>(PacketType::upgrade)) {
      // Closed mid-upgrade: the client completes the upgrade, then hears the
      // close (and anything queued) on its new transport.
      lingering_ = false;
      noop_timer_.cancel();
      srv_->forget(*this);
      auto ws = std::move(probe_);
      for (Packet& p : queue_) {
        if (p.binary)
          ws->write(std::move(p.data), true);
        else
          ws->write(encode_text(p), false);
      }
      queue_.clear();
      ws->close();
    }
    return;
  }
  std::optional<Packet> p;
  if (binary)
    p = decode_binary(data);
  else
    p = decode_text(data);
  if (!p) return protocol_error();
  if (probe_ && from == probe_.get()) {
    if (p->type == PacketType::ping && p->data == "probe") {
      probe_->write(encode_text(Packet{PacketType::pong, "probe", false}), false);
      if (poll_ && queue_.empty()) respond_poll(encode_text(Packet{PacketType::noop, {}, false}));
      return;
    }
    if (p->type == PacketType::upgrade) {
      transport_ws_ = std::move(probe_);
      probe_.reset();
      noop_timer_.cancel();
      if (poll_) {
        auto reply = std::move(*poll_);
        poll_.reset();
        reply(error_response(EioError::bad_request));
      }
      flush();
      return;
    }
    return;  // anything else on a probe is ignored
  }
  if (from != transport_ws_.get()) return;
  on_packet(std::move(*p));
}

void SessionImpl::on_ws_closed(WsTransport* from) {
  if (probe_ && from == probe_.get()) {
    probe_.reset();  // a failed upgrade: keep polling
    return;
  }
  if (from == transport_ws_.get()) close_now("transport close", false);
}

void SessionImpl::close_now(std::string_view reason, bool by_client) {
  if (closed_) return;
  closed_ = true;
  ping_timer_.cancel();
  noop_timer_.cancel();
  for (auto& t : timers_) t.cancel();  // their handlers see closed_ and return
  // Polling with no GET to carry the news: keep the sid until the client
  // collects the queued packets and the close packet with its next poll,
  // or (mid-upgrade, its polling paused) finishes the upgrade on the probe
  // and gets the close there; or until a ping timeout passes.
  const bool linger = !transport_ws_ && !poll_ && reason != "slow consumer" &&
                      reason != "ping timeout" && ((!queue_.empty() && !by_client) || probe_);
  if (linger) {
    lingering_ = true;
    queue_.push_back(Packet{PacketType::close, {}, false});
    noop_timer_.expires_after(srv_->opt.ping_timeout);
    noop_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->lingering_) return;
      self->lingering_ = false;
      self->srv_->forget(*self);
      if (self->probe_) self->probe_->close();
    });
  } else {
    srv_->forget(*this);
  }
  if (poll_) {
    std::vector<Packet> out = std::move(queue_);
    out.push_back(Packet{by_client ? PacketType::noop : PacketType::close, {}, false});
    queue_.clear();
    respond_poll(encode_payload(out));
  }
  if (transport_ws_) {
    if (reason == "slow consumer") {
      queue_.clear();  // it would never be read
      transport_ws_->abort();
    } else {
      flush();  // e.g. a DISCONNECT packet queued just before
      transport_ws_->close();
    }
  }
  if (probe_ && !lingering_) probe_->close();
  if (auto h = std::move(handler_)) h->on_close(reason);
}

// --- Server::Impl ------------------------------------------------------------

std::shared_ptr<SessionImpl> Server::Impl::find(const std::string& sid) {
  std::lock_guard lock(mutex);
  auto it = registry.find(sid);
  return it == registry.end() ? nullptr : it->second;
}

Server::Impl::Created Server::Impl::create(asio::io_context& ctx, Handshake hs) {
  Created out;
  if (!handshake_limiter.take(hs.client_ip).allowed) {
    handshakes_refused->inc();
    out.status = 429;
    return out;
  }
  std::lock_guard lock(mutex);
  IpUse& use = per_ip[hs.client_ip];  // erased below if it stays unused
  if (registry.size() >= opt.max_sessions || use.sessions >= opt.max_sessions_per_ip ||
      use.pending >= opt.max_pending_sessions_per_ip) {
    if (use.sessions == 0) per_ip.erase(hs.client_ip);
    handshakes_refused->inc();
    out.status = registry.size() >= opt.max_sessions ? 503 : 403;
    return out;
  }
  ++use.sessions;
  ++use.pending;
  std::string sid = new_sid();
  out.session = std::make_shared<SessionImpl>(shared_from_this(), ctx, sid, std::move(hs));
  registry.emplace(std::move(sid), out.session);
  sessions_gauge->add(1);
  return out;
}

void Server::Impl::forget(SessionImpl& s) {
  std::lock_guard lock(mutex);
  if (registry.erase(s.id()) == 0) return;
  sessions_gauge->add(-1);
  auto it = per_ip.find(s.handshake().client_ip);
  if (it == per_ip.end()) return;
  if (s.counted_pending_) {
    s.counted_pending_ = false;
    --it->second.pending;
  }
  if (--it->second.sessions == 0) per_ip.erase(it);
}

void Server::Impl::connected(SessionImpl& s) {
  std::lock_guard lock(mutex);
  if (!s.counted_pending_) return;
  s.counted_pending_ = false;
  auto it = per_ip.find(s.handshake().client_ip);
  if (it != per_ip.end()) --it->second.pending;
}

void Server::Impl::handle_polling(const http::Request& req, const http::Reply& reply) {
  const std::string transport = query_value(req.query, "transport");
  if (transport != "polling" && transport != "websocket") {
    return reply(error_response(EioError::unknown_transport));
  }
  const std::string sid = query_value(req.query, "sid");
  if (sid.empty() && !has_query_key(req.query, "sid")) {
    if (req.method != "GET") return reply(error_response(EioError::bad_handshake_method));
    if (query_value(req.query, "EIO") != "4") {
      return reply(error_response(EioError::unsupported_protocol_version));
    }
    if (transport != "polling") return reply(error_response(EioError::bad_request));
    Handshake hs{{}, req.query, req.client_ip};
    for (const auto& [name, value] : req.headers) {
      if (kept_header(name)) hs.headers.emplace_back(name, value);
    }
    auto& ctx = io.next();
    auto created = create(ctx, std::move(hs));
    if (!created.session) return reply(error_response(created.error, created.status));
    asio::post(ctx, [s = std::move(created.session), reply] { s->open(false, nullptr, reply); });
    return;
  }
  auto s = find(sid);
  if (!s) return reply(error_response(EioError::unknown_sid));
  if (transport != "polling") return reply(error_response(EioError::bad_request));
  if (req.method == "GET") {
    asio::post(s->context(), [s, reply] { s->on_poll_get(reply); });
  } else if (req.method == "POST") {
    asio::post(s->context(), [s, body = req.body, reply] { s->on_poll_post(body, reply); });
  } else {
    reply(error_response(EioError::bad_request));
  }
}

void Server::Impl::handle_upgrade(tcp::socket socket, http::UpgradeRequest req,
                                  std::string client_ip, std::shared_ptr<void> slot) {
  const std::string target(req.target());
  const auto q = target.find('?');
  const std::string query = q == std::string::npos ? std::string() : target.substr(q + 1);
  auto refuse = [&socket](EioError e, int status = 400) { refuse_upgrade(socket, e, status); };

  if (query_value(query, "transport") != "websocket") return refuse(EioError::unknown_transport);
  const std::string sid = query_value(query, "sid");
  if (sid.empty()) {
    if (query_value(query, "EIO") != "4") return refuse(EioError::unsupported_protocol_version);
    Handshake hs;
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (kept_header(name)) hs.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    hs.query = query;
    hs.client_ip = std::move(client_ip);
    auto& ctx = static_cast<asio::io_context&>(socket.get_executor().context());
    auto created = create(ctx, std::move(hs));
    if (!created.session) return refuse(created.error, created.status);
    auto s = std::move(created.session);
    auto wst = std::make_shared<WsTransport>(std::move(socket), std::move(slot));
    wst->start(s, std::move(req), opt.max_payload);
    s->open(true, wst, std::nullopt);
    return;
  }
  auto s = find(sid);
  if (!s) return refuse(EioError::unknown_sid);
  auto& ctx = s->context();
  auto moved = std::make_shared<tcp::socket>(rebind(std::move(socket), ctx));
  asio::post(ctx, [this, self = shared_from_this(), s, moved, req = std::move(req),
                   slot = std::move(slot)]() mutable {
    if (s->closed() || s->upgraded() || s->upgrading()) {
      std::make_shared<WsTransport>(std::move(*moved), std::move(slot))
          ->accept_and_close(std::move(req));
      return;
    }
    auto wst = std::make_shared<WsTransport>(std::move(*moved), std::move(slot));
    s->begin_probe(wst);
    wst->start(s, std::move(req), opt.max_payload);
  });
}

namespace {
class UpgradeAdapter final : public http::UpgradeHandler {
 public:
  explicit UpgradeAdapter(std::shared_ptr<Server::Impl> impl) : impl_(std::move(impl)) {}
  // A WebSocket client sends nothing before the 101 answer, so `buffer`
  // holds no frames to pass on.
  void upgrade(tcp::socket socket, http::UpgradeRequest request,
               const beast::flat_buffer& /*buffer*/, std::string client_ip,
               std::shared_ptr<void> slot) override {
    impl_->handle_upgrade(std::move(socket), std::move(request), std::move(client_ip),
                          std::move(slot));
  }

 private:
  std::shared_ptr<Server::Impl> impl_;
};
}  // namespace

// --- Server -----------------------------------------------------------------

Server::Server(Options options, net::IoPool& io, obs::Metrics& metrics, HandlerFactory factory)
    : impl_(std::make_shared<Impl>(options, io, metrics, std::move(factory))) {}

// Sessions still registered (lingering for a last poll at shutdown) hold the
// server and the registry holds them: dropping the registry breaks the cycle.
Server::~Server() {
  std::unordered_map<std::string, std::shared_ptr<SessionImpl>> left;
  {
    std::lock_guard lock(impl_->mutex);
    left.swap(impl_->registry);
    impl_->per_ip.clear();
  }
}

void Server::mount(http::Router& router, const std::string& path) {
  router.add("*", path, [impl = impl_](const http::Request& req, const http::Reply& reply) {
    impl->handle_polling(req, reply);
  });
}

std::shared_ptr<http::UpgradeHandler> Server::upgrade_handler() {
  return std::make_shared<UpgradeAdapter>(impl_);
}

void Server::close_all() {
  std::vector<std::shared_ptr<SessionImpl>> all;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [sid, s] : impl_->registry) all.push_back(s);
  }
  for (auto& s : all) {
    asio::post(s->context(), [s] { s->close("server shutting down"); });
  }
}

std::size_t Server::sessions() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->registry.size();
}

}  // namespace parley::engineio
