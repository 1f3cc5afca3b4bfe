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

}  // namespace parley::http
