// libFuzzer target: token verification (auth::Jwt::verify) on arbitrary
// text, and the base64url codec under it. Nothing may crash; an accepted
// token's claims are complete and survive signing again; base64url
// round-trips any bytes and accepts only the canonical spelling.
//
// The fuzzer cannot forge a signature, so each input is also verified
// re-signed with the harness's key (its signature part replaced by the
// right one): that reaches the header, payload and claims checks with
// arbitrary contents.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "core/object_id.hpp"
#include "fuzz_support.hpp"

namespace {

namespace auth = parley::auth;
using parley::fuzz::check;

// The seeds in corpus/jwt_fuzz are signed with this key; their exp lies
// after kNow.
constexpr std::string_view kSecret = "parley-fuzz-secret";
constexpr std::int64_t kNow = 1700000000;

std::string signed_with_key(std::string_view header_and_payload) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(header_and_payload.data()), header_and_payload.size(),
       mac.data(), &len);
  std::string token(header_and_payload);
  token += '.';
  token += auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
  return token;
}

// Checks an accepted token's claims; returns whether it was accepted.
bool accepted(const auth::Jwt& jwt, std::string_view token) {
  auto claims = jwt.verify(token, kNow);
  if (!claims) return false;
  check(parley::core::is_object_id(claims->sub), "accepted sub is an id");
  check(claims->exp > kNow, "accepted token is not expired");
  check(!claims->jti.empty(), "accepted token has a jti");
  auto again = jwt.verify(jwt.sign(*claims), kNow);
  check(again && again->sub == claims->sub && again->exp == claims->exp &&
            again->iat == claims->iat && again->jti == claims->jti,
        "claims survive signing again");
  return true;
}

void base64url(std::string_view input) {
  std::string bytes;
  const std::string encoded = auth::base64url_encode(input);
  check(auth::base64url_decode(encoded, bytes) && bytes == input, "base64url round trip");
  if (auth::base64url_decode(input, bytes)) {
    check(auth::base64url_encode(bytes) == input, "base64url accepts only the canonical form");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auth::Jwt jwt{std::string(kSecret)};
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool as_is = accepted(jwt, input);
  parley::fuzz::expect_accepted(as_is, "auth::Jwt::verify");
  // header.payload[.signature] -> header.payload.<the right signature>
  const auto dot1 = input.find('.');
  if (dot1 != std::string_view::npos) {
    const auto dot2 = input.find('.', dot1 + 1);
    const std::string token = signed_with_key(input.substr(0, dot2));
    const bool resigned = accepted(jwt, token);
    if (as_is) check(resigned, "a valid token stays valid re-signed");
  }
  base64url(input);
  return 0;
}
