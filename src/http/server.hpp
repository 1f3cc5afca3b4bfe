// parley::http server: HTTP/1.1 on Boost.Beast over the I/O pool.
//
// DESIGN
// - One connection = one HttpConnection bound to one io_context (one
//   thread), so its state needs no locks. Handlers may answer from any
//   thread; the reply is posted back to the connection's context.
// - Requests on a connection are handled one at a time, in order: a
//   pipelining client's next request waits in the (bounded) read buffer.
// - Limits: body (BODY_LIMIT_BYTES, 413), header size (MAX_HEADER_BYTES,
//   431), time to receive a request head (HEADERS_TIMEOUT_MS for the first,
//   KEEPALIVE_TIMEOUT_MS after a response) and body (REQUEST_TIMEOUT_MS),
//   open connections (MAX_CONNECTIONS). The deadlines are absolute, so a
//   client trickling bytes cannot hold a connection.
// - Every response gets the security headers and the CORS policy; OPTIONS
//   is answered as a CORS preflight (204) on any path. Every error the
//   server itself produces (malformed HTTP included) is the contract's JSON.
// - Framing per RFC 9112: Transfer-Encoding other than exactly "chunked" and
//   HTTP/1.1 without exactly one Host are 400, never guessed at.
// - At the file-descriptor limit (EMFILE/ENFILE) the acceptor backs off
//   instead of spinning, logs at most once a second and counts it.
// - A WebSocket upgrade keeps its place under MAX_CONNECTIONS until its
//   socket closes.
// - stop(): the listener closes, idle connections close, busy ones finish
//   their response (with Connection: close) and close.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/cors.hpp"
#include "http/router.hpp"

namespace parley::net {
class IoPool;
}
namespace parley::obs {
class Metrics;
}

namespace parley::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  unsigned short port = 4000;
  std::size_t body_limit = 102400;
  std::size_t header_limit = 16384;
  std::chrono::milliseconds headers_timeout{10000};
  std::chrono::milliseconds keepalive_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};
  std::size_t max_connections = 20000;
  bool trust_proxy = false;
  bool hsts = false;  // Strict-Transport-Security (COOKIE_SECURE=true)
  std::vector<std::string> cors_origins;
  bool cors_any_origin = false;  // test mode only
  // Paths (trailing slash ignored) with their own body limit, e.g. polling.
  std::vector<std::pair<std::string, std::size_t>> body_limits;
  // After refusing a request whose body was not read (413, 431), keep
  // reading and discarding what the client still sends, up to this many
  // bytes and this long, before closing: closing with unread data would
  // reset the connection, and a client still writing its body would never
  // see the answer (LINGER_MAX_BYTES, LINGER_TIMEOUT_MS).
  std::size_t linger_max_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds linger_timeout{5000};
  // WebSocket upgrades whose Origin is present and not in cors_origins are
  // refused with 403 when cors_origins is not empty, unless this is set
  // (WS_ALLOW_ANY_ORIGIN): a page elsewhere must not open a socket with the
  // user's cookie.
  bool ws_any_origin = false;
};

class UpgradeHandler;  // http/upgrade.hpp

class Server {
 public:
  // Hands WebSocket upgrade requests for `path` (trailing slash ignored) to
  // `handler`. Start-up only.
  void on_upgrade(std::string path, std::shared_ptr<UpgradeHandler> handler);

  Server(ServerOptions options, net::IoPool& io, const Router& router, obs::Metrics& metrics);
  ~Server();

  // Binds and starts accepting. Returns an error text when binding fails.
  std::string start();
  // The bound port (after start; useful with port 0).
  unsigned short port() const;
  // Stops accepting and winds connections down (see DESIGN). Thread-safe.
  void stop();
  // Open connections right now.
  std::size_t connections() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::http
