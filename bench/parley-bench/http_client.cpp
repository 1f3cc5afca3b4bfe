#include "parley-bench/http_client.hpp"

#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

namespace parley::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::uint64_t kBodyLimit = 64U << 20;
constexpr std::size_t kReadBuffer = 64U << 10;
}  // namespace

struct HttpClient::Impl {
  Impl(asio::io_context& io, const ServerTarget& t, const std::optional<asio::ip::address>& s)
      : socket(io), target(t), source(s) {
    // Beast reads as much as the buffer has room for, 512 bytes when it
    // has none: a 20 KB history page would take 40 reads.
    buffer.reserve(kReadBuffer);
  }

  void start() {
    if (connected) return write();
    // A fresh connection: a failure on it is the answer, not a reason to retry.
    retried = true;
    boost::system::error_code ignored;
    socket.close(ignored);
    if (const auto ec = open_socket(socket, target.endpoint, source)) {
      return finish(fmt::format("cannot open or bind a socket: {}", ec.message()));
    }
    socket.async_connect(target.endpoint, [this](const boost::system::error_code& e) {
      if (e) return finish(fmt::format("connect: {}", e.message()));
      boost::system::error_code option_ec;
      socket.set_option(tcp::no_delay(true), option_ec);
      connected = true;
      write();
    });
  }

  void write() {
    http::async_write(socket, req, [this](const boost::system::error_code& ec, std::size_t) {
      if (ec) return failed(ec);
      read();
    });
  }

  void read() {
    parser.emplace();
    parser->body_limit(kBodyLimit);
    http::async_read(socket, buffer, *parser,
                     [this](const boost::system::error_code& ec, std::size_t) {
                       if (ec) return failed(ec);
                       const auto& res = parser->get();
                       if (!res.keep_alive()) {
                         boost::system::error_code ignored;
                         socket.close(ignored);
                         connected = false;
                       }
                       HttpAnswer answer;
                       answer.status = res.result_int();
                       answer.body = res.body();
                       auto cb = std::move(done);
                       cb(answer);
                     });
  }

  // A kept-alive connection the server closed meanwhile fails at once: try
  // once more on a new one.
  void failed(const boost::system::error_code& ec) {
    boost::system::error_code ignored;
    socket.close(ignored);
    connected = false;
    buffer.clear();
    if (!retried) return start();
    finish(fmt::format("{}: {}", req.target(), ec.message()));
  }

  void finish(std::string error) {
    HttpAnswer answer;
    answer.error = std::move(error);
    auto cb = std::move(done);
    cb(answer);
  }

  tcp::socket socket;
  ServerTarget target;
  std::optional<asio::ip::address> source;
  bool connected = false;
  bool retried = false;
  boost::beast::flat_buffer buffer;
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> parser;
  Callback done;
};

HttpClient::HttpClient(asio::io_context& io, const ServerTarget& target,
                       const std::optional<asio::ip::address>& source)
    : impl_(std::make_unique<Impl>(io, target, source)) {}

HttpClient::~HttpClient() = default;

void HttpClient::request(std::string_view target, std::optional<std::string_view> json_body,
                         std::string_view bearer, Callback done) {
  auto& req = impl_->req;
  req = {};
  req.version(11);
  req.method(json_body ? http::verb::post : http::verb::get);
  req.target(target);
  req.set(http::field::host, impl_->target.host_header);
  if (!bearer.empty()) req.set(http::field::authorization, fmt::format("Bearer {}", bearer));
  if (json_body) {
    req.set(http::field::content_type, "application/json");
    req.body().assign(json_body->data(), json_body->size());
  }
  req.prepare_payload();
  impl_->done = std::move(done);
  impl_->retried = false;
  impl_->start();
}

}  // namespace parley::bench
