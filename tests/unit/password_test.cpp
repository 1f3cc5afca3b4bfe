#include "auth/password.hpp"

#include <string>

#include <gtest/gtest.h>

namespace parley::auth {
namespace {

// Cost 4 is bcrypt's minimum: fast enough for unit tests.
constexpr int kRounds = 4;

TEST(BcryptBlocking, HashHasThe2bPrefixAndCost) {
  const std::string hash = blocking::bcrypt_hash("correct horse battery", kRounds);
  ASSERT_FALSE(hash.empty());
  EXPECT_EQ(hash.rfind("$2b$04$", 0), 0U) << hash;
  EXPECT_EQ(hash.size(), 60U) << hash;
}

TEST(BcryptBlocking, VerifiesTheRightPasswordOnly) {
  const std::string hash = blocking::bcrypt_hash("correct horse battery", kRounds);
  ASSERT_FALSE(hash.empty());
  EXPECT_TRUE(blocking::bcrypt_verify("correct horse battery", hash));
  EXPECT_FALSE(blocking::bcrypt_verify("correct horse batterY", hash));
  EXPECT_FALSE(blocking::bcrypt_verify("correct horse batter", hash));
  EXPECT_FALSE(blocking::bcrypt_verify("", hash));
}

TEST(BcryptBlocking, SaltsDiffer) {
  const std::string a = blocking::bcrypt_hash("same password", kRounds);
  const std::string b = blocking::bcrypt_hash("same password", kRounds);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_NE(a, b);
  EXPECT_TRUE(blocking::bcrypt_verify("same password", a));
  EXPECT_TRUE(blocking::bcrypt_verify("same password", b));
}

TEST(BcryptBlocking, MultiBytePasswords) {
  const std::string pw = "p\xC3\xA4ssw\xC3\xB6rt \xF0\x9F\x94\x91";
  const std::string hash = blocking::bcrypt_hash(pw, kRounds);
  ASSERT_FALSE(hash.empty());
  EXPECT_TRUE(blocking::bcrypt_verify(pw, hash));
  EXPECT_FALSE(blocking::bcrypt_verify("passwort \xF0\x9F\x94\x91", hash));
}

TEST(BcryptBlocking, MalformedHashesNeverVerify) {
  EXPECT_FALSE(blocking::bcrypt_verify("password", ""));
  EXPECT_FALSE(blocking::bcrypt_verify("password", "*0"));
  EXPECT_FALSE(blocking::bcrypt_verify("password", "$2b$04$"));
  EXPECT_FALSE(blocking::bcrypt_verify("password", "not a hash at all"));
  const std::string hash = blocking::bcrypt_hash("password", kRounds);
  ASSERT_FALSE(hash.empty());
  EXPECT_FALSE(blocking::bcrypt_verify("password", hash.substr(0, 59)));
}

TEST(BcryptBlocking, InvalidCostGivesAnEmptyHash) {
  EXPECT_EQ(blocking::bcrypt_hash("password", 3), "");
  EXPECT_EQ(blocking::bcrypt_hash("password", 32), "");
}

}  // namespace
}  // namespace parley::auth
