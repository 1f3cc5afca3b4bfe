// libFuzzer target: HTTP/1.1 request parsing as the server does it, a
// Beast request_parser<string_body> with the server's default limits,
// fed in random-sized chunks (the uWebSockets harness style: each chunk is
// preceded by a byte giving its length, 0 for all that remains), so every
// split point of a request is tried. A connection may carry several
// requests (keep-alive, pipelining); each complete one is turned into the
// http::Request the handlers see and queried like they do. Nothing may
// crash, and a parsed request must respect the limits.
#include <utility>  // before Asio (g++ 12)

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "config/settings.hpp"
#include "fuzz_support.hpp"
#include "http/message.hpp"

namespace {

namespace bhttp = boost::beast::http;
using parley::fuzz::check;

// The server's limits with default settings (src/app/main.cpp): the largest
// body limit until the target is known, then the target's own.
const parley::config::Settings kDefaults;
const std::size_t kHeaderLimit = kDefaults.max_header_bytes;
const std::size_t kBodyLimit = kDefaults.body_limit_bytes;
const std::size_t kPollingBodyLimit = 2 * kDefaults.max_payload_bytes;

std::size_t body_limit_for(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path == "/socket.io" || path == "/engine.io" ? kPollingBodyLimit : kBodyLimit;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// What the server's handle() does with a complete request, then the
// lookups handlers make on it.
void use(bhttp::request<bhttp::string_body>& msg, std::size_t body_limit) {
  check(msg.body().size() <= body_limit, "body within its limit");
  (void)boost::beast::websocket::is_upgrade(msg);
  parley::http::Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  std::size_t cookie_bytes = 0;  // the value may come from any Cookie header
  for (const auto& f : msg) {
    req.headers.emplace_back(lower(f.name_string()), std::string(f.value()));
    if (req.headers.back().first == "cookie") cookie_bytes += req.headers.back().second.size();
  }
  req.body = std::move(msg.body());
  std::string value;
  if (req.query_param("EIO", value)) check(value.size() <= req.query.size(), "query value size");
  check(req.cookie("token").size() <= cookie_bytes, "cookie value size");
  (void)req.header("origin");
  (void)req.has_header("content-type");
}

// One connection's worth of parsing: bytes arrive in chunks and queue up
// like in the server's read buffer.
class Connection {
 public:
  Connection() { next(); }

  // False once the connection would be closed (an error or no keep-alive).
  bool feed(std::string_view chunk) {
    buffer_.append(chunk);
    while (!buffer_.empty()) {
      boost::beast::error_code ec;
      const std::size_t used = parser_->put(boost::asio::buffer(buffer_), ec);
      check(used <= buffer_.size(), "parser consumes what it was given");
      buffer_.erase(0, used);
      if (ec == bhttp::error::need_more) return true;  // wait for the next chunk
      if (ec) return false;                            // the server answers 4xx and closes
      if (!step()) return false;
      if (used == 0 && !parser_->is_done()) return true;
    }
    return true;
  }

  void end() {
    if (!parser_->got_some() || parser_->is_done()) return;
    boost::beast::error_code ec;
    parser_->put_eof(ec);
    if (!ec && parser_->is_done()) complete();
  }

  std::size_t completed() const { return completed_; }

 private:
  void next() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kHeaderLimit));
    parser_->body_limit(std::max(kBodyLimit, kPollingBodyLimit));
    header_seen_ = false;
  }

  // After each put: the head once it is complete, the request once done.
  bool step() {
    if (parser_->is_header_done() && !header_seen_) {
      header_seen_ = true;
      body_limit_ = body_limit_for(parser_->get().target());
      parser_->body_limit(body_limit_);
      if (auto len = parser_->content_length(); len && *len > body_limit_) return false;  // 413
      parser_->eager(true);  // as async_read, which reads the body
    }
    if (!parser_->is_done()) return true;
    const bool keep_alive = parser_->get().keep_alive();
    complete();
    if (!keep_alive) return false;
    next();
    return true;
  }

  void complete() {
    ++completed_;
    auto msg = parser_->release();
    use(msg, body_limit_);
  }

  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string buffer_;
  std::size_t body_limit_ = 0;
  std::size_t completed_ = 0;
  bool header_seen_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Connection conn;
  bool open = true;
  parley::fuzz::for_each_chunk(data, size, [&](std::string_view chunk) {
    if (open) open = conn.feed(chunk);
  });
  if (open) conn.end();
  parley::fuzz::expect_accepted(conn.completed() > 0, "a Beast request_parser");
  return 0;
}
