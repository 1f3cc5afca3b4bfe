#include "auth/account_rules.hpp"

#include <string>

#include <gtest/gtest.h>

namespace parley::auth {
namespace {

const std::string kEmoji = "\xF0\x9F\x98\x80";  // U+1F600, four bytes
const std::string kNbsp = "\xC2\xA0";
const std::string kIdeographicSpace = "\xE3\x80\x80";  // U+3000
const std::string kBom = "\xEF\xBB\xBF";               // U+FEFF

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// --- name ----------------------------------------------------------------------

TEST(NormalizeName, TrimsSurroundingWhitespace) {
  EXPECT_EQ(normalize_name("  Alice  ").value(), "Alice");
  EXPECT_EQ(normalize_name("\tBob\n").value(), "Bob");
  EXPECT_EQ(normalize_name(kNbsp + "Carol" + kIdeographicSpace).value(), "Carol");
  EXPECT_EQ(normalize_name(kBom + "Dan").value(), "Dan");
  EXPECT_EQ(normalize_name("Mary Ann").value(), "Mary Ann");  // inner space kept
}

TEST(NormalizeName, OneToSixtyFourCodePoints) {
  EXPECT_EQ(normalize_name("x").value(), "x");
  EXPECT_EQ(normalize_name(std::string(64, 'a')).value(), std::string(64, 'a'));
  EXPECT_FALSE(normalize_name(std::string(65, 'a')).has_value());
  // Whitespace around does not count.
  EXPECT_EQ(normalize_name("  " + std::string(64, 'a') + "  ").value(), std::string(64, 'a'));
}

TEST(NormalizeName, CountsCodePointsNotBytes) {
  const std::string sixty_four = repeat(kEmoji, 64);  // 256 bytes
  EXPECT_EQ(normalize_name(sixty_four).value(), sixty_four);
  const auto r = normalize_name(repeat(kEmoji, 65));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), "must be 1-64 characters");
  const std::string accents = repeat("\xC3\xA9", 64);  // é x 64, 128 bytes
  EXPECT_EQ(normalize_name(accents).value(), accents);
}

TEST(NormalizeName, EmptyOrWhitespaceOnlyIsRejected) {
  for (const std::string& blank : {std::string(), std::string("   "), std::string("\t\n"), kNbsp,
                                   kIdeographicSpace + " ", kBom}) {
    const auto r = normalize_name(blank);
    ASSERT_FALSE(r.has_value()) << blank;
    EXPECT_EQ(r.error(), "must be 1-64 characters");
  }
}

TEST(NormalizeName, InvalidUtf8IsRejected) {
  for (const std::string& bad :
       {std::string("Al\xFFice"), std::string("\xC3"), std::string("\xC0\xAF"),
        std::string("\xED\xA0\x80"), std::string("ok\x80")}) {
    const auto r = normalize_name(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "must be valid UTF-8");
  }
}

TEST(NormalizeName, ControlCharactersAreRejected) {
  EXPECT_FALSE(normalize_name("a\tb").has_value());
  EXPECT_FALSE(normalize_name("a\nb").has_value());
  EXPECT_FALSE(normalize_name(std::string("a\0b", 3)).has_value());
  EXPECT_FALSE(normalize_name("a\x7f").has_value());
  EXPECT_FALSE(normalize_name("\x1b[31mred").has_value());
}

// --- email ---------------------------------------------------------------------

TEST(NormalizeEmail, LowerCasesAndTrims) {
  EXPECT_EQ(normalize_email("  Alice@Example.COM ").value(), "alice@example.com");
  EXPECT_EQ(normalize_email("\tBOB@X.IO\n").value(), "bob@x.io");
  EXPECT_EQ(normalize_email(kNbsp + "c@d.org" + kIdeographicSpace).value(), "c@d.org");
}

TEST(NormalizeEmail, AcceptsPlausibleAddresses) {
  for (const char* ok : {"a@b.co", "first.last@example.com", "user+tag@sub.example.co.uk",
                         "x_y-z@my-host.example", "1234@numbers.net", "o'brien@example.ie"}) {
    EXPECT_EQ(normalize_email(ok).value(), ok);
  }
}

TEST(NormalizeEmail, RejectsInvalidForms) {
  for (const char* bad : {"",
                          "   ",
                          "plain",
                          "@example.com",
                          "alice@",
                          "alice@localhost",
                          "alice@example.c",
                          "alice@@example.com",
                          "a@b@example.com",
                          "al ice@example.com",
                          "alice@exa mple.com",
                          ".alice@example.com",
                          "alice.@example.com",
                          "al..ice@example.com",
                          "alice@-example.com",
                          "alice@example-.com",
                          "alice@example..com",
                          "alice@.example.com",
                          "alice@example.com.",
                          "alice@example.-com",
                          "a(b)@example.com",
                          "a<b>@example.com",
                          "a,b@example.com",
                          "a;b@example.com",
                          "a:b@example.com",
                          "\"a\"@example.com",
                          "a\\b@example.com",
                          "alice@[127.0.0.1]",
                          "alice@1.2.3.4",
                          "alice@exam\tple.com",
                          "alice@example.com\x7f"}) {
    const auto r = normalize_email(bad);
    EXPECT_FALSE(r.has_value()) << '"' << bad << '"';
    if (!r) {
      EXPECT_EQ(r.error(), "must be a valid email address");
    }
  }
  EXPECT_FALSE(normalize_email(std::string("a\0b@example.com", 15)).has_value());
  EXPECT_FALSE(normalize_email("a\xFF@example.com").has_value());
}

TEST(NormalizeEmail, LengthLimits) {
  // Local part at most 64.
  EXPECT_TRUE(normalize_email(std::string(64, 'a') + "@example.com").has_value());
  EXPECT_FALSE(normalize_email(std::string(65, 'a') + "@example.com").has_value());
  // Labels at most 63.
  EXPECT_TRUE(normalize_email("a@" + std::string(63, 'b') + ".com").has_value());
  EXPECT_FALSE(normalize_email("a@" + std::string(64, 'b') + ".com").has_value());
  // Whole address at most 254.
  const std::string local(64, 'a');
  const std::string domain254 =
      std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(61, 'd');
  const std::string at_limit = local + "@" + domain254;
  ASSERT_EQ(at_limit.size(), 254U);
  EXPECT_EQ(normalize_email(at_limit).value(), at_limit);
  const std::string over = local + "@" + domain254 + "d";
  ASSERT_EQ(over.size(), 255U);
  EXPECT_FALSE(normalize_email(over).has_value());
  // Trimming happens before the length check.
  EXPECT_TRUE(normalize_email("   " + at_limit + "   ").has_value());
}

// --- password ------------------------------------------------------------------

TEST(CheckPassword, EightToSeventyTwoBytes) {
  EXPECT_FALSE(check_password("").has_value());
  const auto seven = check_password(std::string(7, 'p'));
  ASSERT_FALSE(seven.has_value());
  EXPECT_EQ(seven.error(), "must be 8-72 bytes");
  EXPECT_EQ(check_password(std::string(8, 'p')).value(), std::string(8, 'p'));
  EXPECT_EQ(check_password(std::string(72, 'p')).value(), std::string(72, 'p'));
  const auto seventy_three = check_password(std::string(73, 'p'));
  ASSERT_FALSE(seventy_three.has_value());
  EXPECT_EQ(seventy_three.error(), "must be 8-72 bytes");
}

TEST(CheckPassword, ReturnedUnchanged) {
  EXPECT_EQ(check_password("  spaced out  ").value(), "  spaced out  ");
  EXPECT_EQ(check_password("MiXeD CaSe 123").value(), "MiXeD CaSe 123");
}

TEST(CheckPassword, NulByteIsRejected) {
  const auto r = check_password(std::string("abcd\0efgh", 9));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), "must not contain NUL characters");
  EXPECT_FALSE(check_password(std::string("\0\0\0\0\0\0\0\0", 8)).has_value());
  EXPECT_FALSE(check_password(std::string(72, 'a') + std::string(1, '\0')).has_value());
}

TEST(CheckPassword, MultiByteCharactersCountInBytes) {
  const std::string euro = "\xE2\x82\xAC";  // three bytes, one character
  // Three characters, nine bytes: long enough.
  EXPECT_TRUE(check_password(repeat(euro, 3)).has_value());
  // Two characters, six bytes: too short.
  EXPECT_FALSE(check_password(repeat(euro, 2)).has_value());
  // 18 emoji are 72 bytes; 19 are 76.
  EXPECT_TRUE(check_password(repeat(kEmoji, 18)).has_value());
  EXPECT_FALSE(check_password(repeat(kEmoji, 19)).has_value());
  // 36 x U+00E9 is 72 bytes, 37 is 74 (only 37 characters).
  EXPECT_TRUE(check_password(repeat("\xC3\xA9", 36)).has_value());
  EXPECT_FALSE(check_password(repeat("\xC3\xA9", 37)).has_value());
}

}  // namespace
}  // namespace parley::auth
