#include "auth/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace parley::auth {
namespace {

constexpr const char* kSecret = "unit-test-secret-unit-test-secret!";
constexpr const char* kUserId = "65f0c0ffee0123456789abcd";
constexpr std::int64_t kNow = 1'700'000'000;

Claims good_claims() {
  Claims c;
  c.sub = kUserId;
  c.iat = kNow;
  c.exp = kNow + 3600;
  c.jti = "jti-0001";
  return c;
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string b64(std::string_view s) {
  return base64url_encode(s);
}

std::string hs256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

// A token with exactly this header and payload JSON, signed HS256 with `key`.
std::string craft(std::string_view header_text, std::string_view payload_text,
                  std::string_view key = kSecret) {
  std::string signing_input = b64(header_text) + "." + b64(payload_text);
  return signing_input + "." + b64(hs256(key, signing_input));
}

constexpr const char* kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

std::string payload_json(std::string_view extra_members) {
  return std::string(R"({"sub":")") + kUserId + R"(","iat":1700000000,"exp":1700003600)" +
         std::string(extra_members) + "}";
}

void expect_unauthorized(const core::Result<Claims>& r, const std::string& what) {
  ASSERT_FALSE(r.has_value()) << what;
  EXPECT_EQ(r.error().code, core::ErrorCode::unauthorized) << what;
  EXPECT_EQ(r.error().message, "Invalid or expired token") << what;
}

// --- sign / verify ----------------------------------------------------------

TEST(Jwt, SignVerifyRoundTrip) {
  const Jwt jwt(kSecret);
  const std::string token = jwt.sign(good_claims());
  EXPECT_EQ(split(token).size(), 3U);
  const auto r = jwt.verify(token, kNow);
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->sub, kUserId);
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(r->exp, kNow + 3600);
  EXPECT_EQ(r->jti, "jti-0001");
}

TEST(Jwt, HeaderIsHs256Jwt) {
  const std::string token = Jwt(kSecret).sign(good_claims());
  std::string header;
  ASSERT_TRUE(base64url_decode(split(token)[0], header));
  EXPECT_EQ(header, R"({"alg":"HS256","typ":"JWT"})");
  std::string payload;
  ASSERT_TRUE(base64url_decode(split(token)[1], payload));
  EXPECT_EQ(payload, payload_json(R"(,"jti":"jti-0001")"));
}

TEST(Jwt, MatchesAnIndependentlyComputedSignature) {
  const std::string token = Jwt(kSecret).sign(good_claims());
  EXPECT_EQ(token, craft(kHs256Header, payload_json(R"(,"jti":"jti-0001")")));
}

TEST(Jwt, OtherSecretIsRejected) {
  const std::string token = Jwt(kSecret).sign(good_claims());
  expect_unauthorized(Jwt("another-secret-another-secret-xx").verify(token, kNow), "other secret");
}

TEST(Jwt, EveryFlippedBitInEveryPartIsRejected) {
  const Jwt jwt(kSecret);
  const auto parts = split(jwt.sign(good_claims()));
  ASSERT_EQ(parts.size(), 3U);
  for (std::size_t p = 0; p < 3; ++p) {
    std::string bytes;
    ASSERT_TRUE(base64url_decode(parts[p], bytes));
    for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
      std::string flipped = bytes;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      auto changed = parts;
      changed[p] = b64(flipped);
      const std::string token = changed[0] + "." + changed[1] + "." + changed[2];
      const auto r = jwt.verify(token, kNow);
      EXPECT_FALSE(r.has_value()) << "part " << p << " bit " << bit;
      if (!r) {
        EXPECT_EQ(r.error().code, core::ErrorCode::unauthorized);
      }
    }
  }
}

TEST(Jwt, ChangedCharacterInEveryPositionIsRejected) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const Jwt jwt(kSecret);
  const std::string token = jwt.sign(good_claims());
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '.') continue;
    const auto v = kAlphabet.find(token[i]);
    ASSERT_NE(v, std::string_view::npos);
    // Flipping the top bit of the 6-bit value always changes a data bit,
    // even in the last character of a part.
    std::string changed = token;
    changed[i] = kAlphabet[v ^ 32U];
    EXPECT_FALSE(jwt.verify(changed, kNow).has_value()) << "character " << i;
  }
}

TEST(Jwt, TruncatedTokensAreRejected) {
  const Jwt jwt(kSecret);
  const std::string token = jwt.sign(good_claims());
  for (std::size_t len = 0; len < token.size(); ++len) {
    expect_unauthorized(jwt.verify(std::string_view(token).substr(0, len), kNow),
                        "length " + std::to_string(len));
  }
}

TEST(Jwt, WrongNumberOfPartsIsRejected) {
  const Jwt jwt(kSecret);
  const auto parts = split(jwt.sign(good_claims()));
  expect_unauthorized(jwt.verify(parts[0] + "." + parts[1], kNow), "two parts");
  expect_unauthorized(jwt.verify(parts[0] + "." + parts[1] + ".", kNow), "empty signature");
  expect_unauthorized(jwt.verify(parts[0] + "." + parts[1] + "." + parts[2] + ".", kNow),
                      "trailing dot");
  expect_unauthorized(jwt.verify(parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2], kNow),
                      "four parts");
  expect_unauthorized(jwt.verify(parts[1], kNow), "one part");
  expect_unauthorized(jwt.verify("", kNow), "empty");
  expect_unauthorized(jwt.verify("..", kNow), "dots only");
}

// A token of `header` and `payload` text that are already base64url (or
// deliberately not quite), signed over exactly that text: only the encoding
// can make it invalid.
std::string resigned(const std::string& header, const std::string& payload) {
  const std::string signing_input = header + "." + payload;
  return signing_input + "." + b64(hs256(kSecret, signing_input));
}

std::string padded(std::string part) {
  while (part.size() % 4 != 0) part += '=';
  return part;
}

std::string standard_alphabet(std::string part) {
  for (char& c : part) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  return part;
}

bool has_url_safe_char(const std::string& part) {
  return part.find_first_of("-_") != std::string::npos;
}

TEST(Jwt, PaddedOrStandardBase64PartsAreRejected) {
  const Jwt jwt(kSecret);
  // A header of 26 bytes (35 characters) and a payload and signature whose
  // text needs padding and holds '-' or '_' (standard base64 has '+' and '/'
  // there): the first jti that gives all of that. "~~~" puts a '~' (0x7e) at
  // the end of a 3-byte group somewhere, and that encodes as '-'.
  const std::string header = R"({"alg":"HS256","kid":"k1"})";
  std::vector<std::string> parts;
  for (int i = 0; i < 1000 && parts.empty(); ++i) {
    auto candidate =
        split(craft(header, payload_json(R"(,"jti":"~~~)" + std::to_string(i) + "\"")));
    if (candidate[1].size() % 4 != 0 && has_url_safe_char(candidate[1]) &&
        has_url_safe_char(candidate[2])) {
      parts = std::move(candidate);
    }
  }
  ASSERT_EQ(parts.size(), 3U) << "no jti below 1000 gives the token this test needs";
  ASSERT_EQ(parts[0].size(), 35U);
  ASSERT_EQ(parts[2].size(), 43U);  // 32 bytes: standard base64 adds one '='
  // Control: the token as crafted, unpadded and URL-safe, is valid.
  const std::string token = parts[0] + "." + parts[1] + "." + parts[2];
  ASSERT_TRUE(jwt.verify(token, kNow).has_value()) << jwt.verify(token, kNow).error().detail;

  expect_unauthorized(jwt.verify(resigned(padded(parts[0]), parts[1]), kNow), "padded header");
  expect_unauthorized(jwt.verify(resigned(parts[0], padded(parts[1])), kNow), "padded payload");
  expect_unauthorized(jwt.verify(parts[0] + "." + parts[1] + "." + padded(parts[2]), kNow),
                      "padded signature");
  expect_unauthorized(jwt.verify(resigned(parts[0], standard_alphabet(parts[1])), kNow),
                      "standard base64 payload");
  expect_unauthorized(
      jwt.verify(parts[0] + "." + parts[1] + "." + standard_alphabet(parts[2]), kNow),
      "standard base64 signature");
}

// --- algorithm allow-list ---------------------------------------------------

TEST(Jwt, OtherAlgorithmsAreRejectedResignedOrNot) {
  const Jwt jwt(kSecret);
  const std::string payload = payload_json(R"(,"jti":"j1")");
  for (const char* alg :
       {"none", "None", "NONE", "HS512", "HS384", "RS256", "ES256", "hs256", "HS256 "}) {
    const std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
    const std::string unsigned_token = b64(header) + "." + b64(payload) + ".";
    expect_unauthorized(jwt.verify(unsigned_token, kNow), std::string("unsigned ") + alg);
    // Re-signed with the server's own key and HMAC-SHA256: still not HS256.
    expect_unauthorized(jwt.verify(craft(header, payload), kNow), std::string("re-signed ") + alg);
  }
}

TEST(Jwt, HeaderWithoutAlgOrWithNonStringAlgIsRejected) {
  const Jwt jwt(kSecret);
  const std::string payload = payload_json(R"(,"jti":"j1")");
  expect_unauthorized(jwt.verify(craft(R"({"typ":"JWT"})", payload), kNow), "no alg");
  expect_unauthorized(jwt.verify(craft(R"({"alg":null})", payload), kNow), "null alg");
  expect_unauthorized(jwt.verify(craft(R"({"alg":["HS256"]})", payload), kNow), "array alg");
  expect_unauthorized(jwt.verify(craft(R"(["HS256"])", payload), kNow), "array header");
  expect_unauthorized(jwt.verify(craft("not json", payload), kNow), "garbage header");
}

TEST(Jwt, CraftedHs256TokenIsAccepted) {
  // The crafting helper is sound: a well-formed HS256 token passes.
  const auto r = Jwt(kSecret).verify(craft(kHs256Header, payload_json(R"(,"jti":"j1")")), kNow);
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->jti, "j1");
}

// --- claims -------------------------------------------------------------------

TEST(Jwt, ExpiryIsStrict) {
  const Jwt jwt(kSecret);
  Claims c = good_claims();
  c.exp = kNow;
  expect_unauthorized(jwt.verify(jwt.sign(c), kNow), "exp == now");
  c.exp = kNow - 1;
  expect_unauthorized(jwt.verify(jwt.sign(c), kNow), "exp < now");
  c.exp = kNow + 1;
  EXPECT_TRUE(jwt.verify(jwt.sign(c), kNow).has_value());
  // The same token expires once the clock reaches exp.
  EXPECT_FALSE(jwt.verify(jwt.sign(c), kNow + 1).has_value());
}

TEST(Jwt, MissingOrNonNumericExpIsRejected) {
  const Jwt jwt(kSecret);
  const std::string sub = std::string(R"("sub":")") + kUserId + "\"";
  expect_unauthorized(jwt.verify(craft(kHs256Header, "{" + sub + R"(,"jti":"j"})"), kNow),
                      "no exp");
  expect_unauthorized(
      jwt.verify(craft(kHs256Header, "{" + sub + R"(,"exp":"9999999999","jti":"j"})"), kNow),
      "string exp");
}

TEST(Jwt, MissingSubIsRejected) {
  const Jwt jwt(kSecret);
  expect_unauthorized(
      jwt.verify(craft(kHs256Header, R"({"iat":1700000000,"exp":1700003600,"jti":"j"})"), kNow),
      "no sub");
  expect_unauthorized(
      jwt.verify(craft(kHs256Header, R"({"sub":42,"exp":1700003600,"jti":"j"})"), kNow),
      "numeric sub");
}

TEST(Jwt, SubThatIsNotAnObjectIdIsRejected) {
  const Jwt jwt(kSecret);
  for (const char* sub : {"", "abc", "65F0C0FFEE0123456789ABCD", "65f0c0ffee0123456789abc",
                          "65f0c0ffee0123456789abcde", "65f0c0ffee0123456789abcz"}) {
    Claims c = good_claims();
    c.sub = sub;
    expect_unauthorized(jwt.verify(jwt.sign(c), kNow), std::string("sub ") + sub);
  }
}

TEST(Jwt, MissingOrEmptyJtiIsRejected) {
  const Jwt jwt(kSecret);
  Claims c = good_claims();
  c.jti.clear();
  expect_unauthorized(jwt.verify(jwt.sign(c), kNow), "empty jti");
  expect_unauthorized(jwt.verify(craft(kHs256Header, payload_json("")), kNow), "no jti");
  expect_unauthorized(jwt.verify(craft(kHs256Header, payload_json(R"(,"jti":7)")), kNow),
                      "numeric jti");
}

TEST(Jwt, PayloadThatIsNotAnObjectIsRejected) {
  const Jwt jwt(kSecret);
  expect_unauthorized(jwt.verify(craft(kHs256Header, "[]"), kNow), "array payload");
  expect_unauthorized(jwt.verify(craft(kHs256Header, "{"), kNow), "broken payload");
  expect_unauthorized(jwt.verify(craft(kHs256Header, ""), kNow), "empty payload");
}

// --- base64url ----------------------------------------------------------------

TEST(Base64Url, KnownVectors) {
  // RFC 4648 section 10, without padding.
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: '-' and '_' instead of '+' and '/'.
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(base64url_encode(std::string("\0\0\0", 3)), "AAAA");
}

TEST(Base64Url, DecodesKnownVectors) {
  std::string out;
  ASSERT_TRUE(base64url_decode("", out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(base64url_decode("Zg", out));
  EXPECT_EQ(out, "f");
  ASSERT_TRUE(base64url_decode("Zm8", out));
  EXPECT_EQ(out, "fo");
  ASSERT_TRUE(base64url_decode("Zm9vYmFy", out));
  EXPECT_EQ(out, "foobar");
  ASSERT_TRUE(base64url_decode("-_-_", out));
  EXPECT_EQ(out, "\xfb\xff\xbf");
  ASSERT_TRUE(base64url_decode("AAAA", out));
  EXPECT_EQ(out, std::string("\0\0\0", 3));
}

TEST(Base64Url, RoundTripsEveryByteAtEveryLengthModulo) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); ++len) {
    const std::string in = all.substr(all.size() - len);
    const std::string enc = base64url_encode(in);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos) << enc;
    std::string out;
    ASSERT_TRUE(base64url_decode(enc, out)) << len;
    EXPECT_EQ(out, in) << len;
  }
}

TEST(Base64Url, RejectsCharactersOutsideTheAlphabet) {
  std::string out;
  for (const char* bad :
       {"Zm9+", "Zm9/", "Zm 9v", "Zm9v\n", "Zm9.", "Zm9*", "Zm9v\xc3\xa9", "Zm\t9v"}) {
    EXPECT_FALSE(base64url_decode(bad, out)) << bad;
  }
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4), out));
}

TEST(Base64Url, RejectsPadding) {
  std::string out;
  EXPECT_FALSE(base64url_decode("Zg==", out));
  EXPECT_FALSE(base64url_decode("Zm8=", out));
  EXPECT_FALSE(base64url_decode("Zg=", out));
  EXPECT_FALSE(base64url_decode("====", out));
  EXPECT_FALSE(base64url_decode("=", out));
}

TEST(Base64Url, RejectsImpossibleLengths) {
  std::string out;
  EXPECT_FALSE(base64url_decode("Z", out));
  EXPECT_FALSE(base64url_decode("Zm9vY", out));
  EXPECT_FALSE(base64url_decode("Zm9vYmFyZ", out));
}

// --- nbf (not before) -------------------------------------------------------

TEST(Jwt, NotBeforeInTheFutureIsRefused) {
  const Jwt jwt(kSecret, 5);
  const auto jti = std::string(R"(,"jti":"j1")");
  expect_unauthorized(
      jwt.verify(craft(kHs256Header, payload_json(jti + R"(,"nbf":1700000006)")), kNow),
      "nbf beyond the leeway");
  expect_unauthorized(jwt.verify(craft(kHs256Header, payload_json(jti + R"(,"nbf":"soon")")), kNow),
                      "nbf not a number");
  EXPECT_TRUE(jwt.verify(craft(kHs256Header, payload_json(jti + R"(,"nbf":1700000005)")), kNow));
  EXPECT_TRUE(jwt.verify(craft(kHs256Header, payload_json(jti + R"(,"nbf":1699990000)")), kNow));
  EXPECT_TRUE(jwt.verify(craft(kHs256Header, payload_json(jti)), kNow));
}

TEST(Jwt, NestedTokenJsonIsRefused) {
  const Jwt jwt(kSecret);
  const std::string deep = std::string(",\"x\":") + std::string(10, '[') + std::string(10, ']');
  expect_unauthorized(jwt.verify(craft(kHs256Header, payload_json(R"(,"jti":"j1")" + deep)), kNow),
                      "claims nested deeper than a token needs");
}

}  // namespace
}  // namespace parley::auth
