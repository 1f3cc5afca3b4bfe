#include "core/base64.hpp"

#include <string>

#include <gtest/gtest.h>

namespace parley::core {
namespace {

TEST(Base64, StandardAlphabetIsPadded) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zg"), "f");  // padding optional (Engine.IO)
  EXPECT_EQ(base64_decode("+/8="), "\xfb\xff");
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("-_8"));
}

TEST(Base64, UrlAlphabetIsUnpaddedAndCanonical) {
  EXPECT_EQ(base64_encode("\xfb\xff", Base64::url), "-_8");
  EXPECT_EQ(base64_encode("f", Base64::url), "Zg");
  EXPECT_EQ(base64_decode("-_8", Base64::url), "\xfb\xff");
  EXPECT_FALSE(base64_decode("Zg==", Base64::url));  // no padding
  EXPECT_FALSE(base64_decode("+/8", Base64::url));   // standard alphabet
  EXPECT_FALSE(base64_decode("Zh", Base64::url));    // trailing bits set: not canonical
}

TEST(Base64, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(part)), part);
    EXPECT_EQ(base64_decode(base64_encode(part, Base64::url), Base64::url), part);
  }
}

}  // namespace
}  // namespace parley::core
