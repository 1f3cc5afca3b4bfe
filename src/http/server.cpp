#include "http/server.hpp"

#include <utility>  // before Asio (g++ 12)

#include <atomic>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "core/object_id.hpp"
#include "http/message.hpp"
#include "http/security_headers.hpp"
#include "http/upgrade.hpp"
#include "net/io_pool.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace parley::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// "Tue, 24 Nov 2026 10:00:00 GMT", recomputed at most once a second per
// thread.
const std::string& http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_at = now;
  }
  return cached;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The comma-separated tokens of a header's values, trimmed and lower-cased.
std::vector<std::string> header_tokens(const bhttp::fields& fields, bhttp::field name) {
  std::vector<std::string> out;
  for (auto it = fields.find(name); it != fields.end() && it->name() == name; ++it) {
    std::string_view rest = it->value();
    while (true) {
      const auto comma = rest.find(',');
      out.push_back(lower(trim_ows(rest.substr(0, comma))));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

// Accept errors that mean "out of file descriptors or kernel memory":
// retrying at once would spin.
bool resource_exhausted(const beast::error_code& ec) {
  // Compared as system errors (ENFILE has no asio::error name).
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory ||
         ec == beast::error_code(ENFILE, asio::error::get_system_category());
}

constexpr auto kAcceptBackoffMin = std::chrono::milliseconds(10);
constexpr auto kAcceptBackoffMax = std::chrono::milliseconds(1000);

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

class Connection;

class Server::Impl : public std::enable_shared_from_this<Server::Impl> {
 public:
  Impl(ServerOptions o, net::IoPool& pool, const Router& r, obs::Metrics& m)
      : opt(std::move(o)),
        io(pool),
        router(r),
        metrics(m),
        cors(opt.cors_origins, opt.cors_any_origin),
        static_headers(security_headers(opt.hsts)),
        acceptor(io.at(0)),
        accept_timer(io.at(0)) {
    for (const auto& p : r.patterns()) route_metric.emplace(p, m.route(p));
    metric_not_found = m.route("(unmatched)");
    metric_preflight = m.route("(preflight)");
    metric_bad = m.route("(bad request)");
    max_body_limit = opt.body_limit;
    for (const auto& [path, limit] : opt.body_limits)
      max_body_limit = std::max(max_body_limit, limit);
    route_metric.emplace("(upgrade)", m.route("(upgrade)"));
    refused = &m.counter("parley_http_connections_refused_total",
                         "Connections closed at accept: over MAX_CONNECTIONS.");
    fd_exhausted = &m.counter(
        "parley_http_accept_fd_exhausted_total",
        "Accepts that failed for lack of file descriptors or memory (the acceptor backs off).");
  }

  std::string start();
  void stop();
  void do_accept();
  void on_accept_exhausted(const beast::error_code& ec);
  void add(const std::shared_ptr<Connection>& c);
  // Forgets the connection object; its slot under MAX_CONNECTIONS is given
  // back separately by release() (an upgraded socket keeps it).
  void untrack(Connection* c);
  void release();
  std::size_t metric_for(const std::string& label) const {
    auto it = route_metric.find(label);
    return it == route_metric.end() ? metric_not_found : it->second;
  }

  ServerOptions opt;
  net::IoPool& io;
  const Router& router;
  obs::Metrics& metrics;
  CorsPolicy cors;
  const std::string static_headers;
  std::unordered_map<std::string, std::size_t> route_metric;  // read-only after start
  std::size_t metric_not_found = 0, metric_preflight = 0, metric_bad = 0;
  obs::Counter* refused = nullptr;
  obs::Counter* fd_exhausted = nullptr;
  std::vector<std::pair<std::string, std::shared_ptr<UpgradeHandler>>> upgrades;  // start-up only
  std::size_t max_body_limit = 0;
  tcp::acceptor acceptor;  // io.at(0)'s thread only, after start
  // Accept back-off at the descriptor limit; io.at(0)'s thread only.
  asio::steady_timer accept_timer;
  std::chrono::milliseconds accept_backoff{0};
  Clock::time_point exhausted_logged_at{};
  std::size_t exhausted_unlogged = 0;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open{0};
  mutable std::mutex conns_mutex;  // guards conns
  std::unordered_map<Connection*, std::weak_ptr<Connection>> conns;
};

// One client connection. Lives on one io_context: every member is touched
// only from that context's thread (handlers hop back with post()).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Server::Impl> srv, tcp::socket socket)
      : srv_(std::move(srv)),
        stream_(std::move(socket)),
        // The whole head must fit, so that MAX_HEADER_BYTES (431) is what
        // stops a large head, never the buffer.
        buffer_(srv_->opt.header_limit + kReadChunk) {
    boost::system::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ip_ = ep.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }
  ~Connection() {
    if (registered_) {
      srv_->untrack(this);
      srv_->release();
    }
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

  void start() {
    registered_ = true;
    srv_->add(shared_from_this());
    do_read();
  }

  // Any thread: wind down (see Server DESIGN).
  void request_stop() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stop_requested_ = true;
      if (!self->busy_) self->stream_.cancel();
    });
  }

 private:
  const ServerOptions& opt() const { return srv_->opt; }

  void do_read() {
    if (stop_requested_) return close();
    busy_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(opt().header_limit));
    // The largest limit of any path until the target is known (Beast checks
    // Content-Length against it as soon as the head is parsed).
    parser_->body_limit(srv_->max_body_limit);
    stream_.expires_after(first_ ? opt().headers_timeout : opt().keepalive_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    busy_ = true;
    started_ = Clock::now();
    const auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    if (auto problem = framing_problem(msg); !problem.empty()) {
      return reject(400, core::ErrorCode::bad_request, problem);
    }
    if (boost::beast::websocket::is_upgrade(msg)) {
      if (auto* h = upgrade_handler(msg.target())) {
        const auto origin = msg[bhttp::field::origin];
        // A page this server served (the web client) is always allowed.
        if (!origin.empty() && !srv_->opt.ws_any_origin && !srv_->opt.cors_origins.empty() &&
            !srv_->cors.allowed(origin) && !same_origin(origin, msg[bhttp::field::host])) {
          return reject(403, core::ErrorCode::forbidden, "Origin not allowed");
        }
        return hand_over(*h);
      }
    }
    const std::size_t limit = body_limit_for(msg.target());
    parser_->body_limit(limit);
    if (auto len = parser_->content_length(); len && *len > limit) {
      return reject(413, core::ErrorCode::payload_too_large, "Request body is too large");
    }
    if (parser_->is_done()) return handle();
    stream_.expires_after(opt().request_timeout);
    const auto expect = msg[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  std::size_t body_limit_for(std::string_view target) const {
    std::string_view path = target.substr(0, target.find('?'));
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    for (const auto& [p, limit] : opt().body_limits) {
      if (p == path) return limit;
    }
    return opt().body_limit;
  }

  UpgradeHandler* upgrade_handler(std::string_view target) const {
    std::string_view path = target.substr(0, target.find('?'));
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    for (const auto& [p, h] : srv_->upgrades) {
      if (p == path) return h.get();
    }
    return nullptr;
  }

  // The client's address: the peer's, or with TRUST_PROXY the first
  // address of X-Forwarded-For.
  std::string client_ip(std::string_view xff) const {
    if (opt().trust_proxy && !xff.empty()) {
      const auto first = trim_ows(xff.substr(0, xff.find(',')));
      if (!first.empty()) return std::string(first);
    }
    return peer_ip_;
  }

  // What is wrong with the head's framing (RFC 9112), or empty.
  static std::string_view framing_problem(
      const bhttp::request_parser<bhttp::string_body>::value_type& msg) {
    if (msg.version() >= 11) {
      std::size_t hosts = 0;
      for (auto it = msg.find(bhttp::field::host);
           it != msg.end() && it->name() == bhttp::field::host; ++it) {
        ++hosts;
      }
      if (hosts != 1) return "HTTP/1.1 requests need exactly one Host header";
    }
    if (msg.find(bhttp::field::transfer_encoding) != msg.end()) {
      // Only "chunked", alone: any other coding (or chunked not last) leaves
      // the body's length unknown, and guessing is how requests get smuggled.
      const auto codings = header_tokens(msg, bhttp::field::transfer_encoding);
      if (msg.version() < 11 || codings.size() != 1 || codings[0] != "chunked") {
        return "Unsupported Transfer-Encoding (only chunked is accepted)";
      }
    }
    return {};
  }

  void hand_over(UpgradeHandler& handler) {
    srv_->metrics.record_request(srv_->metric_for("(upgrade)"), 101, 0);
    stream_.expires_never();
    auto req = parser_->release();
    std::string ip = client_ip(req["X-Forwarded-For"]);
    // The upgraded socket keeps this connection's slot under MAX_CONNECTIONS.
    srv_->untrack(this);
    registered_ = false;
    auto slot = std::shared_ptr<void>(nullptr, [srv = srv_](void*) { srv->release(); });
    handler.upgrade(stream_.release_socket(), std::move(req), buffer_, std::move(ip),
                    std::move(slot));
  }

  void read_body() {
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    handle();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return reject(413, core::ErrorCode::payload_too_large, "Request body is too large");
    }
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      return reject(431, core::ErrorCode::payload_too_large, "Request headers are too large");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return reject(400, core::ErrorCode::bad_request, "Malformed HTTP request");
    }
    close();  // peer closed, timeout, cancelled
  }

  // Answers without running a handler, then closes (the rest of the
  // request is unread, so the connection cannot be reused): a lingering
  // close, so that a client still sending its request sees the answer.
  void reject(int status, core::ErrorCode code, std::string_view message) {
    busy_ = true;
    if (started_ == Clock::time_point{}) started_ = Clock::now();
    keep_alive_ = false;
    linger_ = true;
    Response r = Response::error(core::Error::make(code, std::string(message)));
    r.status = status;
    if (parser_ && parser_->is_header_done()) {
      const auto& msg = parser_->get();
      method_ = std::string(msg.method_string());
      req_path_ = std::string(msg.target());
      origin_ = std::string(msg[bhttp::field::origin]);
    }
    metric_ = srv_->metric_bad;
    write(std::move(r));
  }

  void handle() {
    auto& msg = parser_->get();
    req_ = Request{};
    req_.method = std::string(msg.method_string());
    req_.target = std::string(msg.target());
    const auto q = req_.target.find('?');
    req_.path = req_.target.substr(0, q);
    if (q != std::string::npos) req_.query = req_.target.substr(q + 1);
    req_.headers.reserve(8);
    for (const auto& f : msg)
      req_.headers.emplace_back(lower(f.name_string()), std::string(f.value()));
    req_.body = std::move(msg.body());
    req_.client_ip = client_ip(msg["X-Forwarded-For"]);
    const auto rid = req_.header("x-request-id");
    req_.request_id = valid_request_id(rid) ? std::string(rid) : core::new_object_id();
    method_ = req_.method;
    req_path_ = req_.path;
    origin_ = std::string(req_.header("origin"));

    if (req_.method == "OPTIONS") {
      metric_ = srv_->metric_preflight;
      Response r;
      r.status = 204;
      r.content_type.clear();
      preflight_ = true;
      return write(std::move(r));
    }
    auto match = srv_->router.match(req_.method, req_.path);
    if (match.kind == Router::Match::Kind::not_found) {
      metric_ = srv_->metric_not_found;
      return write(
          Response::error(core::Error::make(core::ErrorCode::not_found, "Route not found")));
    }
    metric_ = srv_->metric_for(match.label);
    if (match.kind == Router::Match::Kind::method_not_allowed) {
      auto r = Response::error(
          core::Error::make(core::ErrorCode::method_not_allowed, "Method not allowed"));
      r.header("Allow", match.allow);
      return write(std::move(r));
    }
    req_.params = std::move(match.params);
    auto self = shared_from_this();
    Reply reply = [self](Response r) {
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
    };
    try {
      (*match.handler)(req_, std::move(reply));
    } catch (const std::exception& e) {
      obs::log(obs::Level::error, "handler {} threw: {}", match.label, e.what());
      write(Response::error(core::Error::internal(e.what())));
    }
  }

  void write(Response r) {
    if (srv_->stopping.load(std::memory_order_relaxed)) stop_requested_ = true;
    if (stop_requested_) keep_alive_ = false;
    status_ = r.status;
    const bool head_only = method_ == "HEAD";
    std::string& h = head_;
    h.clear();
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
    h += fmt::format("HTTP/1.1 {} {}\r\nDate: {}\r\n", r.status,
                     std::string_view(reason.data(), reason.size()), http_date());
    if (!r.content_type.empty()) {
      h += "Content-Type: ";
      h += r.content_type;
      h += "\r\n";
    }
    // 304 describes the representation it stands for; it has no body, so no
    // Content-Length of its own.
    const bool no_body = r.status == 204 || r.status == 304;
    if (!no_body) h += fmt::format("Content-Length: {}\r\n", r.body.size());
    h += srv_->static_headers;
    if (preflight_) {
      srv_->cors.apply_preflight(origin_, req_.header("access-control-request-headers"), h);
    } else {
      srv_->cors.apply(origin_, h);
    }
    for (const auto& [k, v] : r.headers) {
      h += k;
      h += ": ";
      h += v;
      h += "\r\n";
    }
    if (!req_.request_id.empty()) {
      h += "X-Request-Id: ";
      h += req_.request_id;
      h += "\r\n";
    }
    h += keep_alive_ ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    body_ = head_only || no_body ? std::string() : std::move(r.body);
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(body_)};
    stream_.expires_after(opt().request_timeout);
    asio::async_write(
        stream_, bufs,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    srv_->metrics.record_request(metric_, status_, seconds);
    obs::log_request(method_, req_path_, status_, seconds * 1000.0, req_.request_id);
    preflight_ = false;
    started_ = {};
    if (!ec && linger_) return linger();
    if (ec || !keep_alive_) return close();
    first_ = false;
    do_read();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  // The answer is written: say so (FIN), then read and drop what the client
  // still sends, bounded in bytes and time, and close.
  void linger() {
    linger_ = false;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return stream_.close();
    lingered_ = buffer_.size();
    buffer_.clear();
    stream_.expires_after(opt().linger_timeout);
    drain();
  }

  void drain() {
    if (lingered_ >= opt().linger_max_bytes) return stream_.close();
    if (!scratch_) scratch_ = std::make_unique<std::array<char, kReadChunk>>();
    stream_.async_read_some(asio::buffer(*scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->stream_.close();
                              self->lingered_ += n;
                              self->drain();
                            });
  }

  static constexpr std::size_t kReadChunk = 8192;

  std::shared_ptr<Server::Impl> srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::unique_ptr<std::array<char, kReadChunk>> scratch_;  // lingering close only
  std::size_t lingered_ = 0;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request req_;
  std::string head_, body_;
  std::string peer_ip_, method_, req_path_, origin_;
  Clock::time_point started_{};
  std::size_t metric_ = 0;
  int status_ = 0;
  bool first_ = true;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool preflight_ = false;
  bool stop_requested_ = false;
  bool registered_ = false;
  bool linger_ = false;  // close by lingering after this response
};

std::string Server::Impl::start() {
  beast::error_code ec;
  const auto addr = asio::ip::make_address(opt.host, ec);
  if (ec) return fmt::format("HOST \"{}\" is not an IP address", opt.host);
  const tcp::endpoint ep{addr, opt.port};
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fmt::format("cannot listen on {}:{}: {}", opt.host, opt.port, ec.message());
  asio::post(acceptor.get_executor(), [self = shared_from_this()] { self->do_accept(); });
  return {};
}

void Server::Impl::do_accept() {
  acceptor.async_accept(
      io.next(), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
        if (!ec) {
          if (self->open.load(std::memory_order_relaxed) >= self->opt.max_connections) {
            self->refused->inc();
            beast::error_code ignored;
            socket.close(ignored);
          } else {
            auto conn = std::make_shared<Connection>(self, std::move(socket));
            // Start on the connection's own thread.
            asio::post(conn->executor(), [conn] { conn->start(); });
          }
        } else if (resource_exhausted(ec)) {
          return self->on_accept_exhausted(ec);
        } else {
          obs::log(obs::Level::warn, "accept: {}", ec.message());
        }
        self->accept_backoff = std::chrono::milliseconds(0);
        self->do_accept();
      });
}

// Out of descriptors: the pending connection stays in the listen backlog, so
// accepting again at once fails again at once. Pause (10 ms, doubling to
// 1 s) while connections close, and log once a second at most.
void Server::Impl::on_accept_exhausted(const beast::error_code& ec) {
  fd_exhausted->inc();
  ++exhausted_unlogged;
  const auto now = Clock::now();
  if (now - exhausted_logged_at >= std::chrono::seconds(1)) {
    obs::log(obs::Level::warn,
             "accept: {} ({} times since the last report); pausing accepts, raise the open "
             "files limit or lower MAX_CONNECTIONS",
             ec.message(), exhausted_unlogged);
    exhausted_logged_at = now;
    exhausted_unlogged = 0;
  }
  accept_backoff = std::clamp(accept_backoff * 2, kAcceptBackoffMin, kAcceptBackoffMax);
  accept_timer.expires_after(accept_backoff);
  accept_timer.async_wait([self = shared_from_this()](beast::error_code wec) {
    if (wec || !self->acceptor.is_open()) return;
    self->do_accept();
  });
}

void Server::Impl::add(const std::shared_ptr<Connection>& c) {
  open.fetch_add(1, std::memory_order_relaxed);
  metrics.open_connections().add(1);
  std::lock_guard lock(conns_mutex);
  conns.emplace(c.get(), c);
}

void Server::Impl::untrack(Connection* c) {
  std::lock_guard lock(conns_mutex);
  conns.erase(c);
}

void Server::Impl::release() {
  open.fetch_sub(1, std::memory_order_relaxed);
  metrics.open_connections().add(-1);
}

void Server::Impl::stop() {
  if (stopping.exchange(true)) return;
  asio::post(acceptor.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor.close(ec);
    self->accept_timer.cancel();
  });
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(conns_mutex);
    for (auto& [ptr, weak] : conns) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->request_stop();
}

Server::Server(ServerOptions options, net::IoPool& io, const Router& router, obs::Metrics& metrics)
    : impl_(std::make_shared<Impl>(std::move(options), io, router, metrics)) {}

Server::~Server() = default;

std::string Server::start() {
  return impl_->start();
}

void Server::on_upgrade(std::string path, std::shared_ptr<UpgradeHandler> handler) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  impl_->upgrades.emplace_back(std::move(path), std::move(handler));
}

unsigned short Server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void Server::stop() {
  impl_->stop();
}

std::size_t Server::connections() const {
  return impl_->open.load(std::memory_order_relaxed);
}

}  // namespace parley::http
