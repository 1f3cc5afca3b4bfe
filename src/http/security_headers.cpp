#include "http/security_headers.hpp"

namespace parley::http {

std::string security_headers(bool hsts) {
  // The web client (StaticSite) satisfies this policy as it is: scripts and
  // styles come from its own files only (no 'unsafe-inline'), and its socket
  // connects to this origin over ws: or wss:. upgrade-insecure-requests only
  // behind HTTPS: a plain-HTTP deployment has nothing to upgrade to.
  std::string h =
      "Content-Security-Policy: default-src 'self';base-uri 'self';connect-src 'self' ws: wss:;"
      "font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';"
      "img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';"
      "style-src 'self'";
  h += hsts ? ";upgrade-insecure-requests\r\n" : "\r\n";
  h += "Cross-Origin-Opener-Policy: same-origin\r\n"
       "Cross-Origin-Resource-Policy: same-origin\r\n"
       "Origin-Agent-Cluster: ?1\r\n"
       "Referrer-Policy: no-referrer\r\n"
       "X-Content-Type-Options: nosniff\r\n"
       "X-DNS-Prefetch-Control: off\r\n"
       "X-Download-Options: noopen\r\n"
       "X-Frame-Options: SAMEORIGIN\r\n"
       "X-Permitted-Cross-Domain-Policies: none\r\n"
       "X-XSS-Protection: 0\r\n";
  if (hsts) h += "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n";
  return h;
}

}  // namespace parley::http
