#include "http/cors.hpp"

#include <gtest/gtest.h>

namespace parley::http {
namespace {

TEST(SameOrigin, AnOriginNamingTheRequestsHostIsTheServersOwn) {
  EXPECT_TRUE(same_origin("http://localhost:4000", "localhost:4000"));
  EXPECT_TRUE(same_origin("https://Chat.Example.com", "chat.example.com"));
  EXPECT_FALSE(same_origin("http://localhost:4000", "localhost:4001"));
  EXPECT_FALSE(same_origin("http://evil.example", "chat.example.com"));
  EXPECT_FALSE(same_origin("http://localhost:4000", ""));
  EXPECT_FALSE(same_origin("localhost:4000", "localhost:4000"));  // no scheme: no origin
  EXPECT_FALSE(same_origin("null", "null"));
}

}  // namespace
}  // namespace parley::http
