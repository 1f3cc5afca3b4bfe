// The part every Socket.IO client of a mode shares: connecting through its
// worker's ConnectQueue, acking events that ask for an ack, and telling
// the controller (through counters) and the ErrorLog how it ended.
// Threads: a client and its WorkerContext live on one worker thread; the
// counters are read by the controlling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "parley-bench/connect_queue.hpp"
#include "parley-bench/run_support.hpp"
#include "parley-bench/workers.hpp"
#include "parley-bench/ws_connection.hpp"

namespace parley::bench {

struct WorkerContext {
  explicit WorkerContext(std::size_t connect_limit) : queue(connect_limit) {}
  ConnectQueue queue;
  RelaxedCounter connected;       // reached Socket.IO connected
  RelaxedCounter connect_failed;  // ended before that
  RelaxedCounter dropped;         // ended by a failure after that, before close()
  RelaxedCounter ended;           // ended, any way
};

class SocketClient : public WsConnection::Handler {
 public:
  SocketClient(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
               std::size_t read_buffer_bytes);

  // Queues the connect on the worker's ConnectQueue (call on its thread).
  // `index`: the socket's number in the run, which seeds its masking keys
  // and names it in errors.
  void queue_connect(const ServerTarget& target,
                     const std::optional<boost::asio::ip::address>& source, std::string token,
                     std::uint64_t index);
  void close();
  void discard() { conn_.discard(); }

 protected:
  void on_connected(WsConnection& conn) override;
  void on_ended(WsConnection& conn) override;
  // After the Socket.IO connect.
  virtual void on_ready() {}
  // Answers event `id` with an empty ack: `43<id>[]`.
  void ack_empty(std::uint32_t id);

  WsConnection conn_;
  WorkerContext& ctx_;
  ErrorLog& errors_;

 private:
  std::uint64_t index_ = 0;  // the run's socket number, to name it in errors
  bool attempting_ = false;
  bool closing_ = false;
};

// Appends the decimal digits of `v` (no allocation).
void append_number(std::string& out, std::uint64_t v);

}  // namespace parley::bench
