#include "engineio/ws_transport.hpp"

#include <utility>  // before Asio (g++ 12)

#include <chrono>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace parley::engineio {

namespace beast = boost::beast;
namespace ws = boost::beast::websocket;

void WsTransport::start(std::weak_ptr<WsOwner> owner, http::UpgradeRequest req,
                        std::size_t max_payload) {
  owner_ = std::move(owner);
  stream_.read_message_max(max_payload);
  stream_.auto_fragment(false);
  ws::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = ws::stream_base::none();  // the session's heartbeat watches the peer
  t.keep_alive_pings = false;
  stream_.set_option(t);
  req_ = std::move(req);
  stream_.async_accept(req_, [self = shared_from_this()](beast::error_code ec) {
    self->req_ = {};
    auto to = self->owner_.lock();
    if (ec || !to) {
      self->closed_ = true;
      if (to) to->on_ws_closed(*self);
      return;
    }
    self->do_read();
    to->on_ws_open(*self);
  });
}

void WsTransport::accept_and_close(http::UpgradeRequest req) {
  req_ = std::move(req);  // kept alive until the handshake completes
  stream_.async_accept(req_, [self = shared_from_this()](beast::error_code ec) {
    self->req_ = {};
    if (!ec) self->close();
  });
}

void WsTransport::do_read() {
  stream_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    auto owner = self->owner_.lock();
    if (ec || !owner) {
      // Also after close() or abort(), or a failed write (which closes the
      // socket): reads stop here, so the owner hears it once.
      self->closed_ = true;
      if (owner) owner->on_ws_closed(*self);
      return;
    }
    const bool binary = self->stream_.got_binary();
    const std::string data = beast::buffers_to_string(self->buffer_.data());
    self->buffer_.consume(self->buffer_.size());
    if (self->buffer_.capacity() > 16384) self->buffer_.shrink_to_fit();
    owner->on_ws_frame(*self, data, binary);
    if (!self->closed_) self->do_read();
  });
}

void WsTransport::write(std::string frame, bool binary) {
  if (closed_) return;
  // The frame in flight is kept here: its bytes must not move until written.
  current_ = std::move(frame);
  stream_.binary(binary);
  // The write holds its owner: a closed session, forgotten by everyone else,
  // still has the rest of its queue and the close frame to write.
  stream_.async_write(
      boost::asio::buffer(current_),
      [self = shared_from_this(), owner = owner_.lock()](beast::error_code ec, std::size_t) {
        self->current_ = std::string();
        if (ec || self->closed_) {
          self->close_socket();
          return;
        }
        if (owner) owner->on_ws_written(*self);
      });
}

void WsTransport::close() {
  if (closed_) return;
  closed_ = true;
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
  stream_.async_close(ws::close_code::normal,
                      [self = shared_from_this()](beast::error_code) { self->close_socket(); });
}

void WsTransport::abort() {
  closed_ = true;
  close_socket();  // current_ stays alive until its write completes
}

void WsTransport::close_socket() {
  closed_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).socket().close(ignored);
}

}  // namespace parley::engineio
