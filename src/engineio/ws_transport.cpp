#include "engineio/ws_transport.hpp"

#include <utility>  // before Asio (g++ 12)

#include <algorithm>
#include <chrono>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace parley::engineio {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// Bytes read per read_some, into a buffer of the I/O thread's.
constexpr std::size_t kReadChunk = 64 * 1024;
// Write buffers an idle connection keeps, each.
constexpr std::size_t kKeptWriteBuffer = 2048;

}  // namespace

WsTransport::WsTransport(asio::ip::tcp::socket socket, std::shared_ptr<void> slot)
    : socket_(socket.get_executor()), slot_(std::move(slot)), close_timer_(socket.get_executor()) {
  handshake_ = std::make_unique<HandshakeStream>(std::move(socket));
}

asio::ip::tcp::socket& WsTransport::socket() {
  return socket_;
}

void WsTransport::accept(std::function<void(bool ok)> then) {
  beast::websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = beast::websocket::stream_base::none();  // the session's heartbeat watches
  t.keep_alive_pings = false;
  handshake_->set_option(t);
  handshake_->async_accept(
      req_, [self = shared_from_this(), then = std::move(then)](beast::error_code ec) {
        self->req_ = {};
        self->socket_ = std::move(beast::get_lowest_layer(*self->handshake_).socket());
        // Released once this handler has returned: the stream is still on
        // the call stack here.
        asio::post(self->socket_.get_executor(), [self] { self->handshake_.reset(); });
        beast::error_code nb;
        // Reads are read_some after a wait: the socket must not block.
        if (!ec) self->socket_.non_blocking(true, nb);
        then(!ec && !nb);
      });
}

void WsTransport::start(std::weak_ptr<WsOwner> owner, http::UpgradeRequest req,
                        std::size_t max_payload) {
  owner_ = std::move(owner);
  reader_ = ws::FrameReader(max_payload);
  req_ = std::move(req);
  accept([self = shared_from_this()](bool ok) {
    auto to = self->owner_.lock();
    if (!ok || !to) {
      self->closed_ = true;
      self->read_ended_ = true;
      self->close_socket();
      if (to) to->on_ws_closed(*self);
      return;
    }
    self->read_more();
    to->on_ws_open(*self);
  });
}

void WsTransport::accept_and_close(http::UpgradeRequest req) {
  req_ = std::move(req);  // kept alive until the handshake completes
  read_ended_ = true;     // no owner to tell
  accept([self = shared_from_this()](bool ok) {
    if (!ok) return self->close_socket();
    self->close();
    self->read_more();  // for the peer's close frame
  });
}

void WsTransport::read_more() {
  // Wait for bytes, then read them into the thread's scratch buffer: an idle
  // connection holds no read buffer, only a partial frame is ever kept.
  socket().async_wait(asio::ip::tcp::socket::wait_read,
                      [self = shared_from_this()](beast::error_code ec) {
                        if (ec) {
                          self->close_socket();
                          return self->end_read();
                        }
                        self->on_readable();
                      });
}

void WsTransport::on_readable() {
  thread_local std::string scratch(kReadChunk, '\0');
  for (;;) {
    beast::error_code ec;
    const std::size_t n = socket().read_some(asio::buffer(scratch), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      close_socket();
      return end_read();
    }
    std::string_view input(scratch.data(), n);
    if (!partial_.empty()) {
      partial_.append(input);
      input = partial_;
    }
    events_.clear();
    const std::size_t used = reader_.feed(input, events_);
    std::string rest(input.substr(used));  // an incomplete frame, at most max_payload + a header
    partial_.swap(rest);
    if (!dispatch()) return;
    if (n < scratch.size()) break;  // drained for now
  }
  read_more();
}

bool WsTransport::dispatch() {
  for (auto& e : events_) {
    switch (e.kind) {
      case ws::ReadEvent::Kind::message:
        if (!closed_) {
          if (auto owner = owner_.lock()) owner->on_ws_frame(*this, e.data, e.binary);
        }
        if (!socket().is_open()) return false;  // aborted by the owner
        break;
      case ws::ReadEvent::Kind::ping:
        if (!close_sent_) {
          ws::append_frame(pending_, ws::Opcode::pong, e.data);
          flush();
        }
        break;
      case ws::ReadEvent::Kind::pong: break;
      case ws::ReadEvent::Kind::close:
      case ws::ReadEvent::Kind::fail:
        peer_closed_ = true;
        if (close_sent_) {
          close_socket();  // the answer to our close: done
        } else if (e.kind == ws::ReadEvent::Kind::close) {
          send_close(e.code == ws::kCloseNoStatus ? ws::kCloseNormal : e.code);
        } else {
          send_close(e.code);
        }
        end_read();
        return false;
    }
  }
  return true;
}

void WsTransport::end_read() {
  if (read_ended_) return;
  read_ended_ = true;
  if (auto owner = owner_.lock()) owner->on_ws_closed(*this);
}

void WsTransport::write(const std::vector<WsMessage>& messages) {
  if (closed_ || close_sent_) return;
  // Sized once: a burst appended piecemeal would grow the buffer (and copy
  // it) several times over.
  std::size_t need = pending_.size();
  for (const WsMessage& m : messages) need += m.size() + sizeof(ws::FrameHeader::bytes);
  pending_.reserve(need);
  for (const WsMessage& m : messages) {
    if (m.binary) {
      ws::append_frame(pending_, ws::Opcode::binary, m.data);
    } else {
      pending_.append(ws::server_header(ws::Opcode::text, m.size()).view());
      pending_.push_back(m.type);
      pending_.append(m.data);
    }
  }
  owner_in_pending_ = true;
  flush();
}

void WsTransport::send_close(std::uint16_t code) {
  if (close_sent_) return;
  close_sent_ = true;
  ws::append_close(pending_, code);
  flush();
}

void WsTransport::flush() {
  if (writing_ || pending_.empty() || !socket().is_open()) return;
  out_.swap(pending_);
  pending_.clear();
  writing_ = true;
  owner_in_out_ = owner_in_pending_;
  owner_in_pending_ = false;
  // The write holds its owner: a closed session, forgotten by everyone else,
  // still has the rest of its queue and the close frame to write.
  auto owner = owner_in_out_ ? owner_.lock() : nullptr;
  asio::async_write(socket(), asio::buffer(out_),
                    [self = shared_from_this(), owner](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      // Nothing more to write: an idle connection keeps no
                      // large write buffers (the users:online of a busy
                      // server alone is kilobytes); small ones are reused.
                      self->out_.clear();
                      if (self->pending_.empty()) {
                        if (self->out_.capacity() > kKeptWriteBuffer)
                          std::string().swap(self->out_);
                        if (self->pending_.capacity() > kKeptWriteBuffer) {
                          std::string().swap(self->pending_);
                        }
                      }
                      if (ec) return self->close_socket();
                      const bool tell = self->owner_in_out_ && !self->closed_;
                      self->owner_in_out_ = false;
                      if (self->pending_.empty() && self->close_sent_) {
                        // Our close frame is out. After the peer's, or a broken
                        // frame, the server closes the connection now; else it
                        // waits a while for the peer's answer.
                        if (self->peer_closed_) return self->close_socket();
                        self->close_timer_.expires_after(kCloseWait);
                        self->close_timer_.async_wait([self](beast::error_code timer_ec) {
                          if (!timer_ec) self->close_socket();
                        });
                        return;
                      }
                      self->flush();
                      if (tell && owner) owner->on_ws_written(*self);
                    });
}

void WsTransport::close() {
  if (closed_) return;
  closed_ = true;
  send_close(ws::kCloseNormal);
}

void WsTransport::abort() {
  closed_ = true;
  close_socket();  // out_ stays alive until its write completes
}

void WsTransport::close_socket() {
  closed_ = true;
  close_timer_.cancel();
  beast::error_code ignored;
  socket().close(ignored);
}

}  // namespace parley::engineio
