// parley::http request and response as the API layer sees them: plain
// structs with no Beast or Asio in sight, so route handlers compile fast and
// can be tested without sockets.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace parley::http {

struct Request {
  std::string method;                                        // upper-case token: GET, POST, ...
  std::string target;                                        // as received: path + query
  std::string path;                                          // decoded path, no query
  std::string query;                                         // raw query string, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string client_ip;
  std::string request_id;
  std::vector<std::pair<std::string, std::string>> params;  // route parameters

  // First header with that (lower-case) name, or empty.
  std::string_view header(std::string_view lower_name) const;
  bool has_header(std::string_view lower_name) const;
  std::string_view param(std::string_view name) const;
  // Decoded query parameter; nullopt-like: `found` false when absent.
  bool query_param(std::string_view name, std::string& value) const;
  // Cookie value from the Cookie header; empty when absent.
  std::string cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static Response json(int status, std::string body);
  // The contract's error body for `e` (+ Retry-After for rate_limited).
  static Response error(const core::Error& e);
  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Called exactly once per request with the response; from any thread (the
// server moves it back to the connection's thread). The Request passed to a
// handler stays valid until then.
using Reply = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Reply)>;

// `s` without leading and trailing spaces and tabs (HTTP's optional
// whitespace around header values and list items).
std::string_view trim_ows(std::string_view s);

// The value of cookie `name` in a Cookie header (surrounding quotes removed,
// %-decoded), or empty.
std::string cookie_value(std::string_view cookie_header, std::string_view name);

// The token a request presents, per the contract, for HTTP and Socket.IO
// handshakes alike: an `Authorization` header with the scheme `Bearer`
// (any case) wins, and when its token is missing the answer is
// kBadCredential (a 401, never a fall-back to the cookie); a header of
// another scheme is ignored; otherwise the cookie `cookie_name`. Empty when
// nothing is presented.
inline constexpr std::string_view kBadCredential = "-";
std::string presented_token(std::string_view authorization, std::string_view cookie_header,
                            std::string_view cookie_name);

// Percent-decoding ('+' as space when `form`); false on a bad escape.
bool url_decode(std::string_view in, std::string& out, bool form);

}  // namespace parley::http
