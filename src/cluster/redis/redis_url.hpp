// REDIS_URL: where the Redis broker connects, parsed before anything starts
// so that a bad URL stops the start with a message rather than a node that
// keeps reconnecting to nowhere.
//
//   redis://[[user]:password@]host[:port][/db]
//
// host is a name, an IPv4 address or a bracketed IPv6 address; port defaults
// to 6379; db (0 when absent) is the logical database for the keys the
// broker may keep (Pub/Sub channels are the same in every database). The
// user and the password may be percent-encoded. TLS (rediss://) and Unix
// sockets are not supported: Debian's hiredis 0.14 has no TLS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace parley::cluster {

// Longest REDIS_URL accepted: far beyond any real one, short enough that
// the error messages quoting it stay one line.
inline constexpr std::size_t kMaxRedisUrlBytes = 2048;
// Largest logical database number (Redis's `databases` is 16 by default).
inline constexpr int kMaxRedisDb = 1'000'000;
inline constexpr std::uint16_t kDefaultRedisPort = 6379;

struct RedisUrl {
  std::string host;
  std::uint16_t port = kDefaultRedisPort;
  std::string username;  // empty: AUTH with the password alone (Redis < 6 style)
  std::string password;  // empty: no AUTH
  int db = 0;
};

// Pure; the error names what is wrong and never repeats the password.
tl::expected<RedisUrl, std::string> parse_redis_url(std::string_view url);

// host:port/db, for logs (no credentials).
std::string describe(const RedisUrl& url);

}  // namespace parley::cluster
