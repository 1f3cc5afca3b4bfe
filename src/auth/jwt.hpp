// JSON Web Tokens, HS256 only. The algorithm allow-list is exactly {HS256}:
// a token whose header names any other `alg` (none, None, HS512, RS256...) is
// rejected before its signature is looked at. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace parley::auth {

struct Claims {
  std::string sub;       // user id
  std::int64_t iat = 0;  // seconds since the epoch
  std::int64_t exp = 0;
  std::string jti;
};

class Jwt {
 public:
  // `leeway_seconds` tolerates clocks that disagree a little about `nbf`
  // (JWT_LEEWAY_SECONDS).
  explicit Jwt(std::string secret, std::int64_t leeway_seconds = 5)
      : secret_(std::move(secret)), leeway_(leeway_seconds) {}

  std::string sign(const Claims& claims) const;
  // Checks form, algorithm, signature (constant time), `exp` > now, `nbf`
  // (when present) <= now + leeway and the presence of `sub` (an ObjectId)
  // and `jti`. Any failure is unauthorized.
  core::Result<Claims> verify(std::string_view token, std::int64_t now_seconds) const;

 private:
  std::string secret_;
  std::int64_t leeway_;
};

// RFC 4648 base64url without padding (core::base64 with the url alphabet).
// decode returns false on any character outside the alphabet, on padding,
// on an impossible length, or on a non-canonical spelling.
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace parley::auth
