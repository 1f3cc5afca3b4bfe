// The response headers a Helmet default sets, as one pre-rendered block
// ("Name: value\r\n" lines) added to every response.
#pragma once

#include <string>

namespace parley::http {

// `hsts`: add Strict-Transport-Security (the contract ties it to
// COOKIE_SECURE=true, i.e. a deployment behind HTTPS).
std::string security_headers(bool hsts);

}  // namespace parley::http
