// parley::engineio WebSocket transport: one accepted WebSocket, moving
// frames between the socket and its owner (a session). It knows nothing of
// Engine.IO: what to write and when comes from the owner, one frame at a
// time (write(), then on_ws_written() before the next write()).
//
// Threads: everything runs on the socket's io_context, which is the owner's
// (session's) thread; the owner calls in from there only.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "http/upgrade.hpp"

namespace parley::engineio {

class WsTransport;

// Hears a transport's events, on its thread. Each transport tells its owner
// on_ws_closed() at most once (when its read ends, whatever the cause), and
// nothing after it.
class WsOwner {
 public:
  virtual ~WsOwner() = default;
  // The WebSocket handshake is done: frames may be written.
  virtual void on_ws_open(WsTransport& from) = 0;
  virtual void on_ws_frame(WsTransport& from, std::string_view data, bool binary) = 0;
  // The frame of the last write() is written.
  virtual void on_ws_written(WsTransport& from) = 0;
  // The handshake or a read failed, or the peer closed.
  virtual void on_ws_closed(WsTransport& from) = 0;
};

class WsTransport : public std::enable_shared_from_this<WsTransport> {
 public:
  // `slot` is the connection's place under MAX_CONNECTIONS, held while the
  // transport lives.
  WsTransport(boost::asio::ip::tcp::socket socket, std::shared_ptr<void> slot)
      : stream_(std::move(socket)), slot_(std::move(slot)) {}

  // Completes the WebSocket handshake, then reads frames (at most
  // `max_payload` bytes each) until closed.
  void start(std::weak_ptr<WsOwner> owner, http::UpgradeRequest req, std::size_t max_payload);
  // Completes the WebSocket handshake, then closes at once (a second
  // WebSocket for a session that already has one). No owner.
  void accept_and_close(http::UpgradeRequest req);
  // Writes one frame. Only after on_ws_open(), and never while a write is in
  // flight. A failed write closes the connection (the read then fails). The
  // owner is kept alive until the write completes and it hears
  // on_ws_written(), so that it can go on draining after it closed.
  void write(std::string frame, bool binary);
  // Sends a close frame (nothing may be in flight), then closes the TCP
  // connection.
  void close();
  // Closes the TCP connection now (a peer that does not read would never let
  // a graceful close finish).
  void abort();

 private:
  void do_read();
  void close_socket();

  boost::beast::websocket::stream<boost::beast::tcp_stream> stream_;
  std::shared_ptr<void> slot_;  // the connection's place under MAX_CONNECTIONS
  http::UpgradeRequest req_;    // the upgrade request, until the handshake is done
  boost::beast::flat_buffer buffer_;
  std::weak_ptr<WsOwner> owner_;
  std::string current_;  // the frame being written
  bool closed_ = false;  // closing or closed: no more reads or writes
};

}  // namespace parley::engineio
