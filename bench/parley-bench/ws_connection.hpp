// One Socket.IO client straight over WebSocket, cheap enough to run
// thousands of them on one thread: TCP connect (bound to a source address),
// the HTTP upgrade by hand, the Engine.IO open packet, Socket.IO CONNECT
// with a token, then Socket.IO packets to and from a Handler.
//
// Why not Beast's websocket stream: it writes one frame per write. Here a
// connection appends every frame it has to send into one output buffer and
// writes it with one write (flush() after a batch; the read handler flushes
// after each read), and parses incoming frames in place from one reusable
// read buffer: no allocation per message once the buffers have grown.
//
// Engine.IO pings are answered here, and WebSocket pings. Threads: a
// connection and its handler live on one io_context run by one thread;
// every call is made on that thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "parley-bench/endpoint.hpp"
#include "parley-bench/handler_memory.hpp"
#include "parley-bench/sio_scan.hpp"
#include "parley-bench/ws_frame.hpp"

namespace parley::bench {

class WsConnection {
 public:
  enum class State {
    idle,
    connecting,  // TCP
    upgrading,   // HTTP upgrade sent
    opening,     // waiting for the Engine.IO open packet
    joining,     // Socket.IO CONNECT sent
    connected,
    closing,  // WebSocket close sent
    closed,
    failed,
  };

  class Handler {
   public:
    virtual ~Handler() = default;
    // The Socket.IO namespace is connected: packets may be sent.
    virtual void on_connected(WsConnection& conn) = 0;
    // A Socket.IO event or ack ('2' or '3') for the main namespace. The
    // views die when this returns.
    virtual void on_packet(WsConnection& conn, const SioPacket& packet) = 0;
    // The connection is over (state() closed or failed; failure() says
    // why). Called once; nothing is called after it.
    virtual void on_ended(WsConnection& conn) = 0;
  };

  // Output past this is a failure rather than memory without bound.
  static constexpr std::size_t kMaxOutputBytes = 64U << 20;
  // The largest message accepted from the server (its maxPayload default).
  static constexpr std::size_t kMaxMessageBytes = 1U << 20;

  WsConnection(boost::asio::io_context& io, Handler& handler, std::size_t read_buffer_bytes);
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  // Connects and authenticates with `token` (the JWT). `seed` varies the
  // WebSocket key and mask per connection.
  void start(const ServerTarget& target, const std::optional<boost::asio::ip::address>& source,
             std::string token, std::uint64_t seed);

  // A Socket.IO packet to send: append it to the returned text (which
  // holds the Engine.IO message type already), then call end_packet().
  std::string& begin_packet();
  void end_packet();
  // Writes whatever is pending with one write, unless a write is in flight
  // (then it goes when that one completes).
  void flush();
  // Sends a WebSocket close and ends once the server answers or closes.
  void close();
  // Closes the socket at once, telling no one: for tearing down after the
  // loop has stopped. Its cancelled operations still hold this
  // connection's memory until the loop runs them (WorkerPool::drain()).
  void discard();

  State state() const { return state_; }
  bool ended() const { return state_ == State::closed || state_ == State::failed; }
  const std::string& failure() const { return failure_; }

 private:
  void on_connect(const boost::system::error_code& ec);
  void do_read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  bool handle_upgrade_response();
  void process_frames();
  void handle_message(std::string_view text);
  void handle_sio(std::string_view text);
  void send_control(Opcode opcode, std::string_view payload);
  void send_engineio(std::string_view packet);
  void on_write(const boost::system::error_code& ec);
  void fail(std::string reason);
  void finish_close();

  boost::asio::ip::tcp::socket socket_;
  Handler& handler_;
  State state_ = State::idle;
  std::string failure_;
  std::string token_;
  std::string expected_accept_;  // Sec-WebSocket-Accept, until the upgrade answer
  MaskKey mask_{};
  WsReader reader_;

  std::vector<char> in_;  // bytes read, [0, in_end_)
  std::size_t in_end_ = 0;
  bool reading_ = false;

  std::string out_;      // frames waiting for the next write
  std::string writing_;  // the frames of the write in flight
  std::string packet_;   // the packet being built between begin/end_packet
  bool write_in_flight_ = false;

  HandlerMemory read_memory_;
  HandlerMemory write_memory_;
};

}  // namespace parley::bench
