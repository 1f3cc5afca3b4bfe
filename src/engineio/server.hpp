// parley::engineio server: Engine.IO v4 over HTTP long-polling and
// WebSocket on one path (/socket.io/), with the upgrade between them.
//
// DESIGN
// - Sessions live in a registry keyed by sid (a mutex-guarded map, touched
//   on handshake, lookup and close only), counted per client IP. Each
//   session is bound to one I/O thread; polling requests arriving on other
//   threads post to it, a WebSocket's socket is moved onto it.
// - The protocol's rules (heartbeat, duplicate polls, the probe/upgrade
//   dance, error codes, lingering after a close, the outbound bounds) live in
//   SessionFsm (session_fsm.hpp), a state machine with no I/O: server.cpp
//   turns requests, frames and timers into its events and does the actions
//   it returns. WsTransport (ws_transport.hpp) and the polling handlers only
//   move bytes.
// - Outbound packets wait in one per-session queue bounded in count and
//   bytes; a peer that does not read is disconnected ("slow consumer") and
//   counted.
// - One WebSocket write in flight per session, drained from that queue a
//   frame at a time; a polling GET takes everything queued in one response.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "engineio/session.hpp"
#include "http/router.hpp"

namespace parley::net {
class IoPool;
}
namespace parley::obs {
class Metrics;
}
namespace parley::http {
class UpgradeHandler;
}

namespace parley::engineio {

struct Options {
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  std::size_t max_payload = 1000000;  // bytes per message / polling body
  std::size_t max_queue_packets = 4096;
  std::size_t max_queue_bytes = 8 * 1024 * 1024;
  std::size_t max_sessions = 20000;
  // Per client IP, counted from the handshake on (MAX_CONNECTIONS_PER_IP):
  // sessions in all, and sessions whose peer has not yet been accepted by
  // the layer above (MAX_PENDING_SESSIONS_PER_IP), so that nobody can fill
  // the session table without a token.
  std::size_t max_sessions_per_ip = 1000;
  std::size_t max_pending_sessions_per_ip = 32;
  // New sessions per client IP: a token bucket (HANDSHAKES_PER_IP_PER_SEC,
  // burst HANDSHAKES_PER_IP_BURST); off when rate limits are disabled.
  double handshakes_per_ip_per_sec = 20;
  double handshakes_per_ip_burst = 100;
  bool handshake_rate_limited = true;
};

class Server {
 public:
  Server(Options options, net::IoPool& io, obs::Metrics& metrics, HandlerFactory factory);
  // The I/O threads no longer run (IoPool::stop(), or never started): the
  // sessions left are let go of from this thread.
  ~Server();

  // Routes the polling requests of `path` ("/socket.io") to this server.
  void mount(http::Router& router, const std::string& path);
  // For http::Server::on_upgrade(path, ...).
  std::shared_ptr<http::UpgradeHandler> upgrade_handler();
  // Shutdown: refuses new sessions, closes every session on its thread and
  // waits until each close has run (the layer above has heard on_close), or
  // until `deadline`; false if it passed first. A close still queued when
  // the I/O threads stop would never run: its session and its handler hold
  // each other, and both would outlive the server. Any thread but an I/O
  // thread, which it would wait for.
  bool close_all(std::chrono::steady_clock::time_point deadline);
  std::size_t sessions() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::engineio
