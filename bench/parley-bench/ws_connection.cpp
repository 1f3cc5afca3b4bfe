#include "parley-bench/ws_connection.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

namespace parley::bench {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxResponseHead = 16384;
constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// base64(SHA-1(key + GUID)), what the server must answer (RFC 6455 4.2.2).
std::string accept_for(std::string_view key) {
  std::string text(key);
  text += kWebSocketGuid;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr);
  return base64(digest.data(), size);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

WsConnection::WsConnection(asio::io_context& io, Handler& handler, std::size_t read_buffer_bytes)
    : socket_(io), handler_(handler), reader_(kMaxMessageBytes), in_(read_buffer_bytes) {}

void WsConnection::start(const ServerTarget& target, const std::optional<asio::ip::address>& source,
                         std::string token, std::uint64_t seed) {
  token_ = std::move(token);
  std::mt19937_64 rng(seed);
  const std::uint64_t r1 = rng();
  const std::uint64_t r2 = rng();
  std::array<unsigned char, 16> key_bytes{};
  std::memcpy(key_bytes.data(), &r1, 8);
  std::memcpy(key_bytes.data() + 8, &r2, 8);
  const std::uint64_t r3 = rng();
  std::memcpy(mask_.data(), &r3, mask_.size());
  const std::string key = base64(key_bytes.data(), key_bytes.size());
  expected_accept_ = accept_for(key);

  out_ = fmt::format(
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
      "Host: {}\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: {}\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "\r\n",
      target.host_header, key);

  state_ = State::connecting;
  if (const auto ec = open_socket(socket_, target.endpoint, source)) {
    // Reported from the loop, not from inside start(): a caller starting a
    // batch should not see handlers run under it.
    asio::post(socket_.get_executor(),
               [this, ec] { fail(fmt::format("cannot open or bind a socket: {}", ec.message())); });
    return;
  }
  socket_.async_connect(target.endpoint,
                        [this](const boost::system::error_code& ec) { on_connect(ec); });
}

void WsConnection::on_connect(const boost::system::error_code& ec) {
  if (ended()) return;
  if (ec) return fail(fmt::format("connect: {}", ec.message()));
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  state_ = State::upgrading;
  flush();
  do_read();
}

void WsConnection::do_read() {
  if (reading_ || ended()) return;
  if (in_end_ == in_.size()) in_.resize(in_.size() * 2);
  reading_ = true;
  socket_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          bind_memory(read_memory_, [this](const boost::system::error_code& ec,
                                                           std::size_t n) { on_read(ec, n); }));
}

void WsConnection::on_read(const boost::system::error_code& ec, std::size_t n) {
  reading_ = false;
  if (ended()) return;
  if (ec) {
    if (state_ == State::closing &&
        (ec == asio::error::eof || ec == asio::error::connection_reset)) {
      return finish_close();
    }
    return fail(ec == asio::error::eof ? std::string("the server closed the connection")
                                       : fmt::format("read: {}", ec.message()));
  }
  in_end_ += n;
  if (state_ == State::upgrading && !handle_upgrade_response()) {
    if (!ended()) do_read();
    return;
  }
  process_frames();
  if (ended()) return;
  flush();
  do_read();
}

// True once the whole answer head is in and was a valid 101; the bytes
// after it are already frames.
bool WsConnection::handle_upgrade_response() {
  const std::string_view in(in_.data(), in_end_);
  const auto end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() > kMaxResponseHead) fail("upgrade answer head too large");
    return false;
  }
  const std::string_view head = in.substr(0, end + 2);
  const auto first_eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, first_eol);
  if (!status_line.starts_with("HTTP/1.1 101")) {
    std::string_view body = in.substr(end + 4);
    if (body.size() > 200) body = body.substr(0, 200);
    fail(fmt::format("upgrade refused: {} {}", status_line, body));
    return false;
  }
  bool accepted = false;
  for (std::size_t pos = first_eol + 2; pos < head.size();) {
    const auto eol = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (iequals(trim(line.substr(0, colon)), "sec-websocket-accept")) {
      accepted = trim(line.substr(colon + 1)) == expected_accept_;
    }
  }
  if (!accepted) {
    fail("upgrade answer without the right Sec-WebSocket-Accept");
    return false;
  }
  expected_accept_.clear();
  expected_accept_.shrink_to_fit();
  const std::size_t used = end + 4;
  std::memmove(in_.data(), in_.data() + used, in_end_ - used);
  in_end_ -= used;
  state_ = State::opening;
  return true;
}

void WsConnection::process_frames() {
  std::size_t pos = 0;
  while (!ended()) {
    std::size_t consumed = 0;
    WsEvent ev;
    const ReadStatus status =
        reader_.next(std::string_view(in_.data() + pos, in_end_ - pos), consumed, ev);
    pos += consumed;
    if (status == ReadStatus::need_more) break;
    if (status == ReadStatus::invalid) {
      return fail(fmt::format("WebSocket protocol error: {}", reader_.error()));
    }
    switch (ev.kind) {
      case WsEvent::Kind::message:
        if (!ev.binary) handle_message(ev.payload);
        break;
      case WsEvent::Kind::ping: send_control(Opcode::pong, ev.payload); break;
      case WsEvent::Kind::pong: break;
      case WsEvent::Kind::close:
        if (state_ == State::closing) return finish_close();
        if (ev.payload.size() >= 2) {
          const unsigned code = (static_cast<unsigned char>(ev.payload[0]) << 8) |
                                static_cast<unsigned char>(ev.payload[1]);
          return fail(
              fmt::format("the server closed the WebSocket: {} {}", code, ev.payload.substr(2)));
        }
        return fail("the server closed the WebSocket");
    }
  }
  if (ended()) return;
  if (pos > 0) {
    std::memmove(in_.data(), in_.data() + pos, in_end_ - pos);
    in_end_ -= pos;
  }
  // A frame longer than the buffer: make room for all of it (the reader
  // has refused anything over the message limit already).
  if (reader_.needed() > in_.size()) in_.resize(reader_.needed());
}

void WsConnection::handle_message(std::string_view text) {
  if (text.empty()) return fail("empty Engine.IO packet");
  switch (text[0]) {
    case '0':  // open
      if (state_ != State::opening) return fail("unexpected Engine.IO open packet");
      state_ = State::joining;
      {
        std::string& p = begin_packet();
        if (token_.empty()) {
          p += "0";
        } else {
          p += "0{\"token\":\"";
          p += token_;
          p += "\"}";
        }
        end_packet();
      }
      return;
    case '1': return fail("the server closed the Engine.IO session");
    case '2': {
      // ping: a pong with the same data.
      packet_.assign("3");
      packet_.append(text.substr(1));
      append_client_frame(out_, Opcode::text, packet_, mask_);
      return;
    }
    case '3':
    case '6': return;  // pong, noop
    case '4': return handle_sio(text.substr(1));
    default: return fail(fmt::format("unexpected Engine.IO packet type '{}'", text[0]));
  }
}

void WsConnection::handle_sio(std::string_view text) {
  const auto packet = parse_sio_packet(text);
  if (!packet) {
    std::string_view head = text.substr(0, std::min<std::size_t>(text.size(), 80));
    return fail(fmt::format("malformed Socket.IO packet: {}", head));
  }
  if (!packet->nsp.empty() && packet->nsp != "/") return;
  switch (packet->type) {
    case '0':
      if (state_ != State::joining) return fail("unexpected Socket.IO CONNECT");
      state_ = State::connected;
      token_.clear();
      token_.shrink_to_fit();
      return handler_.on_connected(*this);
    case '1': return fail("the server disconnected the socket");
    case '4': return fail(fmt::format("Socket.IO CONNECT refused: {}", packet->data));
    case '2':
    case '3':
      if (state_ == State::connected || state_ == State::closing)
        handler_.on_packet(*this, *packet);
      return;
    default: return;  // binary events and acks: none expected, nothing to do
  }
}

std::string& WsConnection::begin_packet() {
  packet_.assign("4");
  return packet_;
}

void WsConnection::end_packet() {
  append_client_frame(out_, Opcode::text, packet_, mask_);
  if (out_.size() > kMaxOutputBytes)
    fail("output buffer over its limit (the server reads too slowly)");
}

void WsConnection::send_control(Opcode opcode, std::string_view payload) {
  append_client_frame(out_, opcode, payload, mask_);
}

void WsConnection::flush() {
  if (write_in_flight_ || out_.empty() || ended() || state_ == State::connecting) return;
  std::swap(out_, writing_);
  out_.clear();
  write_in_flight_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    bind_memory(write_memory_, [this](const boost::system::error_code& ec,
                                                      std::size_t) { on_write(ec); }));
}

void WsConnection::on_write(const boost::system::error_code& ec) {
  write_in_flight_ = false;
  writing_.clear();
  if (ended()) return;
  if (ec) return fail(fmt::format("write: {}", ec.message()));
  flush();
}

void WsConnection::close() {
  switch (state_) {
    case State::idle:
    case State::connecting:
    case State::upgrading:
      state_ = State::closed;
      {
        boost::system::error_code ignored;
        socket_.close(ignored);
      }
      return handler_.on_ended(*this);
    case State::opening:
    case State::joining:
    case State::connected: {
      // 1000: normal closure.
      constexpr std::array<char, 2> kNormal{'\x03', '\xe8'};
      send_control(Opcode::close, std::string_view(kNormal.data(), kNormal.size()));
      state_ = State::closing;
      flush();
      return;
    }
    case State::closing:
    case State::closed:
    case State::failed: return;
  }
}

void WsConnection::discard() {
  if (!ended()) state_ = State::closed;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void WsConnection::finish_close() {
  state_ = State::closed;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  handler_.on_ended(*this);
}

void WsConnection::fail(std::string reason) {
  if (ended()) return;
  state_ = State::failed;
  failure_ = std::move(reason);
  boost::system::error_code ignored;
  socket_.close(ignored);
  handler_.on_ended(*this);
}

}  // namespace parley::bench
