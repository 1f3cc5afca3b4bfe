#include "parley-bench/socket_client.hpp"

#include <array>
#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace parley::bench {

void append_number(std::string& out, std::uint64_t v) {
  std::array<char, 20> digits{};
  const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), v);
  out.append(digits.data(), r.ptr);
}

SocketClient::SocketClient(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
                           std::size_t read_buffer_bytes)
    : conn_(io, *this, read_buffer_bytes), ctx_(ctx), errors_(errors) {}

void SocketClient::queue_connect(const ServerTarget& target,
                                 const std::optional<boost::asio::ip::address>& source,
                                 std::string token, std::uint64_t index) {
  index_ = index;
  ctx_.queue.add([this, &target, source, token = std::move(token), index]() mutable {
    attempting_ = true;
    conn_.start(target, source, std::move(token), index);
  });
}

void SocketClient::close() {
  closing_ = true;
  conn_.close();
}

void SocketClient::on_connected(WsConnection& /*conn*/) {
  attempting_ = false;
  ctx_.connected.add();
  ctx_.queue.finished();
  on_ready();
}

void SocketClient::on_ended(WsConnection& conn) {
  ctx_.ended.add();
  if (attempting_) {
    attempting_ = false;
    ctx_.queue.finished();
    if (!closing_) {
      ctx_.connect_failed.add();
      errors_.add(fmt::format("connect (socket {}): {}", index_, conn.failure()));
    }
    return;
  }
  // A failure while closing (the server resetting instead of answering the
  // close) ends the connection as wanted; only one before it is a drop.
  if (conn.state() == WsConnection::State::failed && !closing_) {
    ctx_.dropped.add();
    errors_.add(fmt::format("socket {} dropped: {}", index_, conn.failure()));
  }
}

void SocketClient::ack_empty(std::uint32_t id) {
  std::string& p = conn_.begin_packet();
  p += '3';
  append_number(p, id);
  p += "[]";
  conn_.end_packet();
}

}  // namespace parley::bench
