#include "cluster/redis/redis_url.hpp"

#include <string>

#include <gtest/gtest.h>

namespace parley::cluster {
namespace {

RedisUrl parse_ok(std::string_view url) {
  auto r = parse_redis_url(url);
  EXPECT_TRUE(r.has_value()) << url << ": " << (r ? std::string() : r.error());
  return r ? *r : RedisUrl{};
}

std::string parse_error(std::string_view url) {
  auto r = parse_redis_url(url);
  EXPECT_FALSE(r.has_value()) << url;
  return r ? std::string() : r.error();
}

TEST(RedisUrl, HostAndPort) {
  const RedisUrl u = parse_ok("redis://cache.internal:6380");
  EXPECT_EQ(u.host, "cache.internal");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.db, 0);
}

TEST(RedisUrl, DefaultsPortAndDatabase) {
  const RedisUrl u = parse_ok("redis://localhost");
  EXPECT_EQ(u.port, kDefaultRedisPort);
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(parse_ok("redis://localhost/").db, 0);
}

TEST(RedisUrl, PasswordUserAndDatabase) {
  RedisUrl u = parse_ok("redis://:s3cret@10.0.0.5:6379/2");
  EXPECT_EQ(u.host, "10.0.0.5");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.db, 2);
  u = parse_ok("redis://parley:pw@r:1/15");
  EXPECT_EQ(u.username, "parley");
  EXPECT_EQ(u.password, "pw");
  EXPECT_EQ(u.port, 1);
  EXPECT_EQ(u.db, 15);
}

TEST(RedisUrl, PercentEncodedPasswordMayHoldSeparators) {
  const RedisUrl u = parse_ok("redis://:a%40b%3Ac%2Fd%25@h:6379");
  EXPECT_EQ(u.password, "a@b:c/d%");
  EXPECT_EQ(u.host, "h");
  // A raw '@' in the password: the last '@' ends the credentials.
  EXPECT_EQ(parse_ok("redis://:p@ss@h").password, "p@ss");
}

TEST(RedisUrl, BracketedIpv6) {
  const RedisUrl u = parse_ok("redis://[::1]:7000/3");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(describe(u), "[::1]:7000/3");
}

TEST(RedisUrl, DescribeLeavesOutCredentials) {
  EXPECT_EQ(describe(parse_ok("redis://u:hidden@h:1/2")), "h:1/2");
}

TEST(RedisUrl, BadUrlsSayWhatIsWrong) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"", "must start with redis://"},
           {"localhost:6379", "must start with redis://"},
           {"http://h:1", "must start with redis://"},
           {"rediss://h:6379", "TLS"},
           {"redis://", "no host"},
           {"redis://:6379", "no host"},
           {"redis://h:", "port"},
           {"redis://h:0", "port"},
           {"redis://h:65536", "port"},
           {"redis://h:63a", "port"},
           {"redis://h:-1", "port"},
           {"redis://h:99999999999999999999", "port"},
           {"redis://h/x", "database"},
           {"redis://h/-1", "database"},
           {"redis://h/1000001", "database"},
           {"redis://h/1?timeout=3", "query"},
           {"redis://pw@h", "':' is missing"},
           {"redis://user:@h", "password"},
           {"redis://:bad%zzencoding@h", "percent-encoding"},
           {"redis://:short%4@h", "percent-encoding"},
           {"redis://ho st:1", "host"},
           {"redis://h;rm:1", "host"},
           {"redis://[::1", "unclosed"},
           {"redis://[::1]x", "junk"},
           {"redis://[zz]:1", "IPv6"},
       }) {
    const std::string err = parse_error(c.url);
    EXPECT_NE(err.find(c.says), std::string::npos) << c.url << " -> " << err;
    EXPECT_NE(err.find("REDIS_URL"), std::string::npos) << err;
  }
}

TEST(RedisUrl, ErrorsNeverRepeatThePassword) {
  for (const char* url : {"redis://:topsecret@h:99999", "redis://:topsecret@h/x",
                          "redis://:topsecret@ho st", "http://:topsecret@h"}) {
    const std::string err = parse_error(url);
    EXPECT_EQ(err.find("topsecret"), std::string::npos) << err;
  }
}

TEST(RedisUrl, LengthIsBounded) {
  const std::string host(kMaxRedisUrlBytes, 'h');
  EXPECT_NE(parse_error("redis://" + host).find("longer than"), std::string::npos);
  EXPECT_NE(parse_error("redis://" + std::string(254, 'h')).find("too long"), std::string::npos);
  EXPECT_EQ(parse_ok("redis://" + std::string(253, 'h')).host.size(), 253U);
}

}  // namespace
}  // namespace parley::cluster
