// parley::engineio WebSocket transport: one accepted WebSocket, moving
// messages between the socket and its owner (a session). It knows nothing of
// Engine.IO: what to write and when comes from the owner, one write at a time
// (write(), then on_ws_written() before the next write()); a write carries
// every message the owner had queued.
//
// DESIGN
// - Beast does the HTTP handshake (async_accept). Past it, frames are read
//   and written on the TCP socket with ws_frames: a write is all its
//   messages' frames in one buffer, one syscall, where Beast would write one
//   message per call; and the control frames (pong, the close reply) join
//   the same single write path, so nothing writes beside it.
// - Reads wait for readability, then read into the I/O thread's scratch
//   buffer: an idle connection holds no read buffer. Only an incomplete
//   frame is kept, at most max_payload bytes plus a header (the reader
//   refuses a larger one from its header).
//
// Threads: everything runs on the socket's io_context, which is the owner's
// (session's) thread; the owner calls in from there only.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "engineio/session_fsm.hpp"
#include "engineio/ws_frames.hpp"
#include "http/upgrade.hpp"

namespace parley::engineio {

class WsTransport;

// Hears a transport's events, on its thread. Each transport tells its owner
// on_ws_closed() at most once (when its read ends, whatever the cause), and
// nothing after it.
class WsOwner {
 public:
  virtual ~WsOwner() = default;
  // The WebSocket handshake is done: messages may be written.
  virtual void on_ws_open(WsTransport& from) = 0;
  virtual void on_ws_frame(WsTransport& from, std::string_view data, bool binary) = 0;
  // The messages of the last write() are written.
  virtual void on_ws_written(WsTransport& from) = 0;
  // The handshake or a read failed, or the peer closed.
  virtual void on_ws_closed(WsTransport& from) = 0;
};

class WsTransport : public std::enable_shared_from_this<WsTransport> {
 public:
  // `slot` is the connection's place under MAX_CONNECTIONS, held while the
  // transport lives.
  WsTransport(boost::asio::ip::tcp::socket socket, std::shared_ptr<void> slot);

  // Completes the WebSocket handshake, then reads messages (at most
  // `max_payload` bytes each) until closed.
  void start(std::weak_ptr<WsOwner> owner, http::UpgradeRequest req, std::size_t max_payload);
  // Completes the WebSocket handshake, then closes at once (a second
  // WebSocket for a session that already has one). No owner.
  void accept_and_close(http::UpgradeRequest req);
  // Writes `messages`, in order, in one write. Only after on_ws_open(), and
  // never while the owner's previous write is in flight. A failed write
  // closes the connection (the read then fails). The owner is kept alive
  // until the write completes and it hears on_ws_written(), so that it can
  // go on draining after it closed.
  void write(const std::vector<WsMessage>& messages);
  // Sends a close frame after what is being written, then closes the TCP
  // connection once the peer answers it (or after kCloseWait).
  void close();
  // Closes the TCP connection now (a peer that does not read would never let
  // a graceful close finish).
  void abort();

  // How long a graceful close waits for the peer's close frame.
  static constexpr std::chrono::seconds kCloseWait{5};

 private:
  boost::asio::ip::tcp::socket& socket();
  void read_more();
  void on_readable();
  // Hands the events of one read on; false when reading is over.
  bool dispatch();
  // The read loop is over: the owner hears it, once.
  void end_read();
  // Queues a close frame with `code` (once); the socket closes after it.
  void send_close(std::uint16_t code);
  void flush();
  void close_socket();

  using HandshakeStream = boost::beast::websocket::stream<boost::beast::tcp_stream>;
  // Accepts the handshake on the socket, which it then hands over (the
  // stream's buffers and timer are released: an idle WebSocket keeps only
  // the socket).
  void accept(std::function<void(bool ok)> then);

  std::unique_ptr<HandshakeStream> handshake_;
  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<void> slot_;  // the connection's place under MAX_CONNECTIONS
  http::UpgradeRequest req_;    // the upgrade request, until the handshake is done
  std::weak_ptr<WsOwner> owner_;
  ws::FrameReader reader_{0};
  std::vector<ws::ReadEvent> events_;  // of one read, reused
  std::string partial_;                // the start of a frame, read but incomplete
  std::string out_;                    // the write in flight
  std::string pending_;                // frames for the next write
  bool writing_ = false;               // out_ is being written
  bool owner_in_out_ = false;          // out_ holds the owner's messages: on_ws_written after
  bool owner_in_pending_ = false;
  bool close_sent_ = false;   // a close frame is queued: nothing is framed after it
  bool peer_closed_ = false;  // the peer's close frame (or a broken frame) was read
  bool read_ended_ = false;   // the owner heard on_ws_closed
  bool closed_ = false;       // the owner is done (close/abort) or the socket is gone
  boost::asio::steady_timer close_timer_;
};

}  // namespace parley::engineio
