// CORS per the contract: origins listed in CLIENT_URL get
// Access-Control-Allow-Origin: <origin> with credentials, preflights
// included; any other origin gets no CORS headers at all.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::http {

// Whether `origin` ("scheme://host[:port]") names the host a request was
// sent to (its Host header): a page the server itself served. ASCII
// case-insensitive; an empty Host matches nothing.
bool same_origin(std::string_view origin, std::string_view host);

class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> allowed, bool any = false)
      : allowed_(std::move(allowed)), any_(any) {}

  bool allowed(std::string_view origin) const;
  // Appends the headers for a response to a request from `origin`.
  void apply(std::string_view origin, std::string& head) const;
  // Headers of a preflight answer (204), `request_headers` from
  // Access-Control-Request-Headers.
  void apply_preflight(std::string_view origin, std::string_view request_headers,
                       std::string& head) const;

 private:
  std::vector<std::string> allowed_;
  bool any_;
};

}  // namespace parley::http
