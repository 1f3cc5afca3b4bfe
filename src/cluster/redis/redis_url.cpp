#include "cluster/redis/redis_url.hpp"

#include <charconv>

#include <fmt/format.h>

namespace parley::cluster {

namespace {

using Fail = tl::unexpected<std::string>;

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kUsage = "expected redis://[:password@]host[:port][/db]";
// A DNS name is at most 253 characters; an IPv6 literal far less.
constexpr std::size_t kMaxHostBytes = 253;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

tl::expected<std::string, std::string> percent_decode(std::string_view in, const char* what) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
    if (lo < 0) return Fail(fmt::format("REDIS_URL: bad percent-encoding in the {}", what));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <typename Int>
bool parse_number(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

bool valid_host(std::string_view host) {
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool valid_ipv6(std::string_view host) {
  for (char c : host) {
    if (hex_value(c) < 0 && c != ':' && c != '.') return false;
  }
  return host.find(':') != std::string_view::npos;
}

// host[:port] or [v6]:port, already cut from userinfo and path.
tl::expected<void, std::string> parse_authority(std::string_view hostport, RedisUrl& out) {
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return Fail("REDIS_URL: unclosed [ in the host");
    host = hostport.substr(1, close - 1);
    const std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return Fail(fmt::format("REDIS_URL: junk after the host ({})", kUsage));
      port = rest.substr(1);
      has_port = true;
    }
    if (!valid_ipv6(host)) return Fail("REDIS_URL: bad IPv6 address in the host");
  } else {
    const auto colon = hostport.rfind(':');
    host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = hostport.substr(colon + 1);
      has_port = true;
    }
    if (!valid_host(host)) {
      return Fail("REDIS_URL: the host may hold only letters, digits, '-', '.' and '_'");
    }
  }
  if (host.empty()) return Fail(fmt::format("REDIS_URL names no host ({})", kUsage));
  if (host.size() > kMaxHostBytes) return Fail("REDIS_URL: the host is too long");
  out.host = std::string(host);
  if (has_port) {
    unsigned value = 0;
    if (!parse_number(port, value) || value < 1 || value > 65535) {
      return Fail(fmt::format("REDIS_URL: the port must be a number from 1 to 65535 (got \"{}\")",
                              port.substr(0, 16)));
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return {};
}

}  // namespace

tl::expected<RedisUrl, std::string> parse_redis_url(std::string_view url) {
  if (url.size() > kMaxRedisUrlBytes) {
    return Fail(fmt::format("REDIS_URL is longer than {} bytes", kMaxRedisUrlBytes));
  }
  if (url.rfind("rediss://", 0) == 0) {
    return Fail("REDIS_URL: rediss:// (TLS) is not supported by this build; use redis://");
  }
  if (url.rfind(kScheme, 0) != 0) {
    // Never echo the value: it may hold a password.
    return Fail(fmt::format("REDIS_URL must start with redis:// ({})", kUsage));
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl out;

  // The path (/db) starts at the first '/' after the credentials; a
  // password may hold '/' only percent-encoded, as in any URL.
  const auto at = rest.rfind('@');
  std::string_view userinfo;
  if (at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  const auto slash = rest.find('/');
  const std::string_view hostport = rest.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  if (at != std::string_view::npos) {
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return Fail("REDIS_URL: credentials must be [user]:password@ (the ':' is missing)");
    }
    auto user = percent_decode(userinfo.substr(0, colon), "user");
    if (!user) return Fail(user.error());
    auto password = percent_decode(userinfo.substr(colon + 1), "password");
    if (!password) return Fail(password.error());
    if (password->empty()) return Fail("REDIS_URL: the password after ':' is empty");
    out.username = std::move(*user);
    out.password = std::move(*password);
  }

  if (auto r = parse_authority(hostport, out); !r) return Fail(r.error());

  if (const auto query = path.find_first_of("?#"); query != std::string_view::npos) {
    return Fail("REDIS_URL: query strings and fragments are not supported");
  }
  if (!path.empty()) {
    int db = 0;
    if (!parse_number(path, db) || db < 0 || db > kMaxRedisDb) {
      return Fail(fmt::format("REDIS_URL: the database after '/' must be a number from 0 to {}",
                              kMaxRedisDb));
    }
    out.db = db;
  }
  return out;
}

std::string describe(const RedisUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{}/{}", v6 ? "[" : "", url.host, v6 ? "]" : "", url.port, url.db);
}

}  // namespace parley::cluster
