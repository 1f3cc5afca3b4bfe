// A keep-alive HTTP/1.1 client for one connection (no pipelining): one
// request at a time, reconnecting when the server closes between requests.
// Used to register users and by the http mode. Beast stays in the .cpp.
// Threads: every call on the io_context's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "parley-bench/endpoint.hpp"

namespace parley::bench {

struct HttpAnswer {
  std::string error;  // empty when an answer arrived (of any status)
  unsigned status = 0;
  std::string_view body;  // valid during the callback only
};

class HttpClient {
 public:
  using Callback = std::function<void(const HttpAnswer&)>;

  HttpClient(boost::asio::io_context& io, const ServerTarget& target,
             const std::optional<boost::asio::ip::address>& source);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POST with a JSON body, or GET when `json_body` is nullopt; `bearer` is
  // the token for the Authorization header, if any. One request at a time:
  // the next one may be made from `done`.
  void request(std::string_view target, std::optional<std::string_view> json_body,
               std::string_view bearer, Callback done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::bench
