#include "core/utf8.hpp"

#include <string>

#include <gtest/gtest.h>

namespace parley::core {
namespace {

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0U);
  EXPECT_EQ(utf8_length("abc"), 3U);
  EXPECT_EQ(utf8_length("\xC3\xA9"), 1U);          // U+00E9
  EXPECT_EQ(utf8_length("\xE2\x82\xAC"), 1U);      // U+20AC
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1U);  // U+1F600
  EXPECT_EQ(utf8_length("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"), 5U);
  EXPECT_EQ(utf8_length(std::string("a\0b", 3)), 3U);  // NUL is a code point
}

TEST(Utf8Length, BoundaryCodePointsAreValid) {
  EXPECT_EQ(utf8_length("\x7F"), 1U);              // U+007F
  EXPECT_EQ(utf8_length("\xC2\x80"), 1U);          // U+0080
  EXPECT_EQ(utf8_length("\xDF\xBF"), 1U);          // U+07FF
  EXPECT_EQ(utf8_length("\xE0\xA0\x80"), 1U);      // U+0800
  EXPECT_EQ(utf8_length("\xED\x9F\xBF"), 1U);      // U+D7FF
  EXPECT_EQ(utf8_length("\xEE\x80\x80"), 1U);      // U+E000
  EXPECT_EQ(utf8_length("\xEF\xBF\xBF"), 1U);      // U+FFFF
  EXPECT_EQ(utf8_length("\xF0\x90\x80\x80"), 1U);  // U+10000
  EXPECT_EQ(utf8_length("\xF4\x8F\xBF\xBF"), 1U);  // U+10FFFF
}

TEST(Utf8Length, OverlongFormsAreInvalid) {
  EXPECT_FALSE(utf8_length("\xC0\xAF"));          // '/' in two bytes
  EXPECT_FALSE(utf8_length("\xC1\xBF"));          // U+007F in two bytes
  EXPECT_FALSE(utf8_length("\xC0\x80"));          // NUL in two bytes
  EXPECT_FALSE(utf8_length("\xE0\x80\xAF"));      // '/' in three bytes
  EXPECT_FALSE(utf8_length("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(utf8_length("\xF0\x80\x80\xAF"));  // '/' in four bytes
  EXPECT_FALSE(utf8_length("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(Utf8Length, SurrogatesAreInvalid) {
  EXPECT_FALSE(utf8_length("\xED\xA0\x80"));  // U+D800
  EXPECT_FALSE(utf8_length("\xED\xAD\xBF"));  // U+DB7F
  EXPECT_FALSE(utf8_length("\xED\xB0\x80"));  // U+DC00
  EXPECT_FALSE(utf8_length("\xED\xBF\xBF"));  // U+DFFF
  // A CESU-8 style surrogate pair for U+1F600.
  EXPECT_FALSE(utf8_length("\xED\xA0\xBD\xED\xB8\x80"));
}

TEST(Utf8Length, TruncatedSequencesAreInvalid) {
  EXPECT_FALSE(utf8_length("\xC3"));
  EXPECT_FALSE(utf8_length("\xE2\x82"));
  EXPECT_FALSE(utf8_length("\xF0\x9F\x98"));
  EXPECT_FALSE(utf8_length("abc\xF0\x9F"));
  EXPECT_FALSE(
      utf8_length("\xC3"
                  "a"));  // continuation replaced by ASCII
  EXPECT_FALSE(
      utf8_length("\xE2\x82"
                  "a"));
  EXPECT_FALSE(utf8_length("\xF0\x9F\x98\xC3\xA9"));  // lead byte where continuation due
}

TEST(Utf8Length, ValuesAboveU10FFFFAreInvalid) {
  EXPECT_FALSE(utf8_length("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(utf8_length("\xF7\xBF\xBF\xBF"));  // U+1FFFFF
  EXPECT_FALSE(utf8_length("\xF5\x80\x80\x80"));
  EXPECT_FALSE(utf8_length("\xF8\x88\x80\x80\x80"));      // five-byte form
  EXPECT_FALSE(utf8_length("\xFC\x84\x80\x80\x80\x80"));  // six-byte form
}

TEST(Utf8Length, StrayBytesAreInvalid) {
  EXPECT_FALSE(utf8_length("\x80"));
  EXPECT_FALSE(utf8_length("a\xBF"));
  EXPECT_FALSE(utf8_length("\xFE"));
  EXPECT_FALSE(utf8_length("\xFF"));
  EXPECT_FALSE(utf8_length("ok\xC3\xA9\x80"));
}

TEST(TrimUnicode, AsciiWhitespace) {
  EXPECT_EQ(trim_unicode("  a b  "), "a b");
  EXPECT_EQ(trim_unicode("\t\n\v\f\r x \r\n"), "x");
  EXPECT_EQ(trim_unicode(""), "");
  EXPECT_EQ(trim_unicode("   "), "");
  EXPECT_EQ(trim_unicode("none"), "none");
}

TEST(TrimUnicode, UnicodeWhitespace) {
  const std::string nbsp = "\xC2\xA0";
  const std::string ideographic = "\xE3\x80\x80";  // U+3000
  const std::string bom = "\xEF\xBB\xBF";          // U+FEFF
  EXPECT_EQ(trim_unicode(nbsp + "x" + nbsp), "x");
  EXPECT_EQ(trim_unicode(ideographic + "x" + ideographic), "x");
  EXPECT_EQ(trim_unicode(bom + "x" + bom), "x");
  EXPECT_EQ(trim_unicode(nbsp + ideographic + " " + bom + "x y" + bom + " " + nbsp), "x y");
  EXPECT_EQ(trim_unicode(nbsp + ideographic + bom), "");
  for (const char* space : {"\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x85", "\xE2\x80\x8A",
                            "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F"}) {
    EXPECT_EQ(trim_unicode(std::string(space) + "x" + space), "x") << space;
  }
}

TEST(TrimUnicode, KeepsInnerAndNonSpaceCharacters) {
  const std::string nbsp = "\xC2\xA0";
  EXPECT_EQ(trim_unicode(" a" + nbsp + "b "), "a" + nbsp + "b");
  // U+0085 (NEL) and U+200B (zero width space) are not whitespace for
  // String.prototype.trim.
  EXPECT_EQ(trim_unicode("\xC2\x85x\xC2\x85"), "\xC2\x85x\xC2\x85");
  EXPECT_EQ(trim_unicode("\xE2\x80\x8Bx\xE2\x80\x8B"), "\xE2\x80\x8Bx\xE2\x80\x8B");
  // A multi-byte character next to the trimmed space survives whole.
  EXPECT_EQ(trim_unicode(" \xC3\xA9 "), "\xC3\xA9");
  EXPECT_EQ(trim_unicode(nbsp + "\xF0\x9F\x98\x80" + nbsp), "\xF0\x9F\x98\x80");
}

TEST(TrimUnicode, ReturnsAViewIntoTheInput) {
  const std::string text = "  hello  ";
  const std::string_view out = trim_unicode(text);
  EXPECT_EQ(out.data(), text.data() + 2);
  EXPECT_EQ(out.size(), 5U);
}

TEST(AsciiLower, OnlyAsciiLettersChange) {
  EXPECT_EQ(ascii_lower("Hello, WORLD 123"), "hello, world 123");
  EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // ÉTÉ -> ÉtÉ
  EXPECT_EQ(ascii_lower(""), "");
  EXPECT_EQ(ascii_lower("@[`{"), "@[`{");
}

}  // namespace
}  // namespace parley::core
