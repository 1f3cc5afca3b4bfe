// libFuzzer target: percent-decoding (http::url_decode) and what is built
// on it: cookies (http::cookie_value, Request::cookie), the token a request
// presents (http::presented_token) and query parameters (query_param).
// Input: a name, a newline, then the text used as the Cookie header, the
// Authorization header and the query string (no newline: all of it is the
// text, the name is "token"). Nothing may crash; decoding never grows the
// text; anything percent-encoded decodes back to itself; a cookie, bearer
// token or query parameter put in front of the text is found as it was.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/message.hpp"

namespace {

namespace http = parley::http;
using parley::fuzz::check;

// Every byte but ASCII letters and digits as %XX.
std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : in) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')) {
      out += c;
    } else {
      out += '%';
      out += kHex[b >> 4U];
      out += kHex[b & 15U];
    }
  }
  return out;
}

void decoding(std::string_view text) {
  for (const bool form : {false, true}) {
    std::string out;
    if (http::url_decode(text, out, form)) {
      check(out.size() <= text.size(), "decoding never grows the text");
      std::string back;
      check(http::url_decode(percent_encode(out), back, form) && back == out,
            "decoded text re-encoded decodes to itself");
    }
    check(http::url_decode(percent_encode(text), out, form) && out == text,
          "percent-encoded text decodes to itself");
  }
}

// A cookie name cannot hold ';' or '=' nor start or end with blanks (the
// parser trims them); anything else goes.
bool usable_cookie_name(std::string_view name) {
  if (name.empty() || name.find_first_of(";=") != std::string_view::npos) return false;
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  return !blank(name.front()) && !blank(name.back());
}

void lookups(std::string_view name, std::string_view text) {
  http::Request req;
  req.headers.emplace_back("cookie", std::string(text));
  req.query = std::string(text);
  const std::string cookie = http::cookie_value(text, name);
  check(cookie.size() <= text.size(), "cookie value within the header");
  check(req.cookie(name) == cookie, "Request::cookie is cookie_value of its one header");
  const std::string token = http::presented_token(text, text, name);
  check(token == http::kBadCredential || token == cookie || text.find(token) != text.npos,
        "a presented token is the bad-credential mark, the cookie or in the header");
  check(http::presented_token("", text, name) == cookie, "no Authorization: the cookie");
  std::string value;
  if (req.query_param(name, value)) check(value.size() <= text.size(), "query value size");

  // Put first, each is the one found, whatever follows.
  const std::string value_in = "v" + std::string(text.substr(0, 16));
  const std::string encoded = percent_encode(value_in);
  if (usable_cookie_name(name)) {
    const std::string header = std::string(name) + "=" + encoded + "; " + std::string(text);
    check(http::cookie_value(header, name) == value_in, "a cookie in front is found");
    req.headers.front().second = header;
    check(req.cookie(name) == value_in, "a cookie in front is found by Request::cookie");
  }
  check(http::presented_token(" bEaReR\t" + encoded + " ", text, name) == encoded,
        "a Bearer token wins over the cookie, the scheme in any case");
  check(http::presented_token("Bearer \t", text, name) == http::kBadCredential,
        "an empty Bearer token is a bad credential, not the cookie");
  req.query = percent_encode(name) + "=" + encoded + "&" + std::string(text);
  check(req.query_param(name, value) && value == value_in,
        "a query parameter in front is found with its value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view name =
      newline == std::string_view::npos ? "token" : input.substr(0, newline);
  const std::string_view text =
      newline == std::string_view::npos ? input : input.substr(newline + 1);
  std::string decoded;
  parley::fuzz::expect_accepted(http::url_decode(text, decoded, true), "http::url_decode");
  decoding(text);
  lookups(name, text);
  return 0;
}
