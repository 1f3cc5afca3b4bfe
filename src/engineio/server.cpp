#include "engineio/server.hpp"

#include <utility>  // before Asio (g++ 12)

#include <openssl/rand.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "core/base64.hpp"
#include "core/rate_limiter.hpp"
#include "engineio/codec.hpp"
#include "engineio/session_fsm.hpp"
#include "engineio/ws_transport.hpp"
#include "http/upgrade.hpp"
#include "net/inbox.hpp"
#include "net/io_pool.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace parley::engineio {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

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

}  // namespace

class SessionImpl;

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
  SessionOptions session_options() const {
    return {opt.ping_interval, opt.ping_timeout, opt.max_payload, opt.max_queue_packets,
            opt.max_queue_bytes};
  }

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
  mutable std::mutex mutex;  // guards registry, per_ip and closing
  std::unordered_map<std::string, std::shared_ptr<SessionImpl>> registry;
  // close_all() ran: a session made after its sweep would never be closed,
  // and would keep the registry (and itself) alive past the server's end.
  bool closing = false;
  std::unordered_map<std::string, IpUse> per_ip;  // entries with sessions > 0
};

// A session on its I/O thread: the Asio side of a SessionFsm. Everything that
// happens (a request, a frame, a timer) becomes an event; run() does what the
// state machine answers. Every member is touched on the session thread only,
// except counted_pending_ (the server's mutex).
class SessionImpl final : public Session,
                          public WsOwner,
                          public std::enable_shared_from_this<SessionImpl> {
 public:
  SessionImpl(std::shared_ptr<Server::Impl> srv, asio::io_context& ctx, const std::string& sid,
              Handshake hs)
      : srv_(std::move(srv)),
        ctx_(ctx),
        inbox_(net::Inbox::of(ctx)),
        sid_(sid),
        hs_(std::move(hs)),
        fsm_(sid, srv_->session_options()),
        timers_{asio::steady_timer(ctx), asio::steady_timer(ctx)} {}

  // --- Session
  const std::string& id() const override { return sid_; }
  const Handshake& handshake() const override { return hs_; }
  bool closed() const override { return fsm_.closed(); }
  void mark_connected() override { srv_->connected(*this); }
  // Guarded by the server's mutex (set at creation, cleared by forget() or
  // connected()).
  bool counted_pending_ = true;
  std::size_t backlog() const override { return fsm_.backlog(); }
  bool send(std::string data, bool binary) override {
    if (fsm_.closed()) return false;
    run(fsm_.resume(event::Send{std::move(data), binary}));
    return !fsm_.closed();  // a send closes only a slow consumer
  }
  void close(std::string_view reason) override { run(fsm_.resume(event::Close{reason})); }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    if (fsm_.closed()) return;
    // Kept in after_ so that the close cancels them: a pending timer must not
    // keep a closed session (and what its function holds) alive.
    after_.emplace_front(ctx_, delay);
    auto it = after_.begin();
    it->async_wait([self = shared_from_this(), it, fn = std::move(fn)](beast::error_code ec) {
      if (ec || self->fsm_.closed()) return;  // cancelled by the close
      self->after_.erase(it);
      fn();
    });
  }
  void post(std::function<void()> fn) override {
    inbox_.post([self = shared_from_this(), fn = std::move(fn)] {
      if (!self->fsm_.closed()) fn();
    });
  }

  const void* thread_token() const override { return &inbox_; }
  void post_to_thread(std::function<void()> fn) override { inbox_.post(std::move(fn)); }

  asio::io_context& context() { return ctx_; }

  // Session thread, once, after creation: answers the polling handshake.
  // close_all() may have found the session in the registry and closed it
  // before this ran: a handler made now would never hear a close, and it
  // and the session would hold each other forever.
  void open_polling(const http::Reply& reply) {
    if (fsm_.closed()) return reply(error_response(EioError::forbidden, 503));
    run(fsm_.resume(event::Open{false}), &reply);
    handler_ = srv_->factory(shared_from_this());
  }
  // Session thread, once, after creation: a WebSocket-only session.
  void open_websocket(std::shared_ptr<WsTransport> ws, http::UpgradeRequest req) {
    ws_ = std::move(ws);
    ws_->start(weak_from_this(), std::move(req), srv_->opt.max_payload);
    run(fsm_.resume(event::Open{true}));
    handler_ = srv_->factory(shared_from_this());
  }
  // Session thread: a WebSocket with this sid, the upgrade's probe; accepted
  // then closed at once when the session cannot take one (closed, or it
  // already has a WebSocket).
  void start_probe(std::shared_ptr<WsTransport> ws, http::UpgradeRequest req) {
    if (!fsm_.accepts_probe()) return ws->accept_and_close(std::move(req));
    ws_ = std::move(ws);
    run(fsm_.resume(event::ProbeStart{}));
    ws_->start(weak_from_this(), std::move(req), srv_->opt.max_payload);
  }
  void on_poll_get(const http::Reply& reply) { run(fsm_.resume(event::PollGet{}), &reply); }
  void on_poll_post(const std::string& body, const http::Reply& reply) {
    auto self = shared_from_this();  // handlers may close the session
    run(fsm_.resume(event::PollPost{body}), &reply);
    while (fsm_.has_input()) run(fsm_.resume(event::Continue{}), &reply);
  }

  // --- WsOwner: events of ws_ (those of a transport it no longer holds are
  // stale and dropped).
  void on_ws_open(WsTransport& from) override {
    if (&from == ws_.get()) run(fsm_.resume(event::WsOpen{}));
  }
  void on_ws_frame(WsTransport& from, std::string_view data, bool binary) override {
    if (&from != ws_.get()) return;
    auto self = shared_from_this();  // handlers may close the session
    run(fsm_.resume(event::WsFrame{data, binary}));
  }
  void on_ws_written(WsTransport& from) override {
    if (&from == ws_.get()) run(fsm_.resume(event::WsWritten{}));
  }
  void on_ws_closed(WsTransport& from) override {
    if (&from != ws_.get()) return;
    auto self = shared_from_this();
    auto gone = std::move(ws_);
    run(fsm_.resume(event::WsClosed{}));
  }

  // The server's end, its I/O threads stopped with the session still open
  // (its close never ran): drops the handler, which holds the session, so
  // that neither outlives the server. The handler hears no close: the
  // layer above is being torn down too.
  void abandon() { handler_.reset(); }

 private:
  // Does what the state machine says, in order. `request`: the HTTP request
  // of the event (a GET or POST), for the reply_* and hold_poll actions.
  // Re-entrant: the layer above may send or close from on_message.
  void run(Actions actions, const http::Reply* request = nullptr) {
    using Kind = Action::Kind;
    for (Action& a : actions) {
      switch (a.kind) {
        case Kind::reply_ok: {
          http::Response ok;
          ok.content_type = "text/html";
          ok.body = "ok";
          if (request) (*request)(std::move(ok));
          break;
        }
        case Kind::reply_payload:
          if (request) (*request)(text_response(std::move(a.data)));
          break;
        case Kind::reply_error:
          if (request) (*request)(error_response(a.error, a.status));
          break;
        case Kind::hold_poll:
          if (request) poll_ = *request;
          break;
        case Kind::respond_poll:
          if (auto reply = take_poll()) (*reply)(text_response(std::move(a.data)));
          break;
        case Kind::respond_poll_error:
          if (auto reply = take_poll()) (*reply)(error_response(a.error, a.status));
          break;
        case Kind::ws_write:
          if (ws_) ws_->write(a.messages);
          break;
        case Kind::ws_close:
          if (ws_) ws_->close();
          break;
        case Kind::ws_abort:
          if (ws_) ws_->abort();
          break;
        case Kind::start_timer: start_timer(a.timer, a.delay); break;
        case Kind::cancel_timer: cancel_timer(a.timer); break;
        case Kind::deliver:
          if (handler_) handler_->on_message(std::move(a.data), a.binary);
          break;
        case Kind::notify_closed:
          for (auto& t : after_) t.cancel();  // their handlers see closed() and return
          if (auto h = std::move(handler_)) h->on_close(a.data);
          break;
        case Kind::forget: srv_->forget(*this); break;
        case Kind::count_protocol_error: srv_->protocol_errors->inc(); break;
        case Kind::count_slow_consumer: srv_->slow_consumers->inc(); break;
      }
    }
  }

  std::optional<http::Reply> take_poll() {
    std::optional<http::Reply> reply = std::move(poll_);
    poll_.reset();
    return reply;
  }

  static std::size_t index(Timer t) { return t == Timer::heartbeat ? 0 : 1; }
  // A wait replaced or cancelled after its timer expired still runs its
  // handler (without an error): the generation tells it is stale.
  void start_timer(Timer t, std::chrono::milliseconds delay) {
    const std::size_t i = index(t);
    auto& timer = timers_[i];
    timer.expires_after(delay);
    timer.async_wait([self = shared_from_this(), t, gen = ++timer_gen_[i]](beast::error_code ec) {
      if (ec || gen != self->timer_gen_[index(t)]) return;
      self->run(self->fsm_.resume(event::TimerFired{t}));
    });
  }
  void cancel_timer(Timer t) {
    ++timer_gen_[index(t)];
    timers_[index(t)].cancel();
  }

  std::shared_ptr<Server::Impl> srv_;
  asio::io_context& ctx_;
  net::Inbox& inbox_;  // posts from other threads, run in batches
  const std::string sid_;
  const Handshake hs_;
  SessionFsm fsm_;
  std::shared_ptr<SessionHandler> handler_;
  std::optional<http::Reply> poll_;  // the held GET
  // The session's WebSocket (the probe while upgrading); kept after the state
  // machine closes it, until its read ends.
  std::shared_ptr<WsTransport> ws_;
  std::array<asio::steady_timer, 2> timers_;  // by index(Timer)
  std::array<std::uint64_t, 2> timer_gen_{};
  std::list<asio::steady_timer> after_;  // after(); cancelled on close
};

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
  if (closing) {
    out.status = 503;
    return out;
  }
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
    asio::post(ctx, [s = std::move(created.session), reply] { s->open_polling(reply); });
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
    created.session->open_websocket(
        std::make_shared<WsTransport>(std::move(socket), std::move(slot)), std::move(req));
    return;
  }
  auto s = find(sid);
  if (!s) return refuse(EioError::unknown_sid);
  auto& ctx = s->context();
  auto moved = std::make_shared<tcp::socket>(rebind(std::move(socket), ctx));
  asio::post(ctx, [s, moved, req = std::move(req), slot = std::move(slot)]() mutable {
    s->start_probe(std::make_shared<WsTransport>(std::move(*moved), std::move(slot)),
                   std::move(req));
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
// One whose close never ran (close_all() not called, or past its deadline)
// also holds its handler, which holds it: abandon() breaks that one.
Server::~Server() {
  std::unordered_map<std::string, std::shared_ptr<SessionImpl>> left;
  {
    std::lock_guard lock(impl_->mutex);
    left.swap(impl_->registry);
    impl_->per_ip.clear();
  }
  for (auto& [sid, s] : left) s->abandon();
}

void Server::mount(http::Router& router, const std::string& path) {
  router.add("*", path, [impl = impl_](const http::Request& req, const http::Reply& reply) {
    impl->handle_polling(req, reply);
  });
}

std::shared_ptr<http::UpgradeHandler> Server::upgrade_handler() {
  return std::make_shared<UpgradeAdapter>(impl_);
}

bool Server::close_all(std::chrono::steady_clock::time_point deadline) {
  std::vector<std::shared_ptr<SessionImpl>> all;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->closing = true;
    for (auto& [sid, s] : impl_->registry) all.push_back(s);
  }
  // Shared with the posted closes: one may still run after a wait that
  // timed out.
  struct Pending {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t left = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = all.size();
  for (auto& s : all) {
    asio::post(s->context(), [s, pending] {
      s->close("server shutting down");
      std::lock_guard lock(pending->mutex);
      if (--pending->left == 0) pending->done.notify_all();
    });
  }
  std::unique_lock lock(pending->mutex);
  return pending->done.wait_until(lock, deadline, [&] { return pending->left == 0; });
}

std::size_t Server::sessions() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->registry.size();
}

}  // namespace parley::engineio
