#include "http/cors.hpp"

#include <algorithm>

namespace parley::http {

bool CorsPolicy::allowed(std::string_view origin) const {
  return !origin.empty() &&
         (any_ || std::find(allowed_.begin(), allowed_.end(), origin) != allowed_.end());
}

void CorsPolicy::apply(std::string_view origin, std::string& head) const {
  if (!allowed_.empty() || any_) head += "Vary: Origin\r\n";
  if (!allowed(origin)) return;
  head += "Access-Control-Allow-Origin: ";
  head += origin;
  head += "\r\nAccess-Control-Allow-Credentials: true\r\n";
}

void CorsPolicy::apply_preflight(std::string_view origin, std::string_view request_headers,
                                 std::string& head) const {
  apply(origin, head);
  if (!allowed(origin)) return;
  head += "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE\r\n";
  if (!request_headers.empty()) {
    head += "Access-Control-Allow-Headers: ";
    head += request_headers;
    head += "\r\nVary: Access-Control-Request-Headers\r\n";
  }
  head += "Access-Control-Max-Age: 600\r\n";
}

bool same_origin(std::string_view origin, std::string_view host) {
  const auto scheme_end = origin.find("://");
  if (host.empty() || scheme_end == std::string_view::npos) return false;
  const std::string_view authority = origin.substr(scheme_end + 3);
  if (authority.size() != host.size()) return false;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const auto lower = [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(authority[i]) != lower(host[i])) return false;
  }
  return true;
}

}  // namespace parley::http
