// Base64 (RFC 4648), the one implementation: the standard alphabet with
// '=' padding (Engine.IO's binary packets on polling) and the URL-safe
// alphabet without padding (JWTs, session ids).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::core {

enum class Base64 {
  standard,  // A-Z a-z 0-9 + /, padded with '='
  url,       // A-Z a-z 0-9 - _, no padding
};

std::string base64_encode(std::string_view bytes, Base64 alphabet = Base64::standard);

// nullopt on a character outside the alphabet or an impossible length.
// standard: trailing '=' padding is optional. url: no padding, and only the
// canonical spelling (unused trailing bits zero), so that a token has
// exactly one form.
std::optional<std::string> base64_decode(std::string_view text, Base64 alphabet = Base64::standard);

}  // namespace parley::core
