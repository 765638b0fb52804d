#include "daemon/text/untrusted_text.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

TEST(UntrustedTextTest, Utf8PrefixNeverCutsACharacter) {
  EXPECT_EQ(utf8_prefix("abc", 10), "abc");
  EXPECT_EQ(utf8_prefix("abcdef", 3), "abc");
  // é is 2 bytes, € 3, 🔥 4: a limit inside one stops before it.
  EXPECT_EQ(utf8_prefix("a\xC3\xA9", 2), "a");
  EXPECT_EQ(utf8_prefix("a\xE2\x82\xAC", 2), "a");
  EXPECT_EQ(utf8_prefix("a\xE2\x82\xAC", 3), "a");
  EXPECT_EQ(utf8_prefix("a\xF0\x9F\x94\xA5z", 4), "a");
  EXPECT_EQ(utf8_prefix("a\xF0\x9F\x94\xA5z", 5), "a\xF0\x9F\x94\xA5");
  // Not UTF-8 (a run of continuation bytes): cut at the limit.
  EXPECT_EQ(utf8_prefix(std::string(10, '\x80'), 5), std::string(5, '\x80'));
  EXPECT_EQ(utf8_prefix("\xC3\xA9", 0), "");
}

TEST(UntrustedTextTest, ExcerptIsWholeOrAPrefixWithTheSize) {
  EXPECT_EQ(excerpt("yesterday"), "yesterday");
  EXPECT_EQ(excerpt(std::string(100, 'x')), std::string(100, 'x'));
  EXPECT_EQ(excerpt(std::string(101, 'x')), std::string(100, 'x') + "... (101 bytes)");
  EXPECT_EQ(excerpt("abcdef", 4), "abcd... (6 bytes)");
}

TEST(UntrustedTextTest, HiddenControlsAreRemoved) {
  EXPECT_EQ(without_hidden_controls("a\u202Eb\u2066c\u2069d\u200Ee\u200Ff\u061Cg"), "abcdefg");
  EXPECT_EQ(without_hidden_controls("a\x01"
                                    "b\x1B"
                                    "c\x7F"
                                    "d\xC2\x85"
                                    "e\xC2\x9F"
                                    "f"),
            "abcdef");
  EXPECT_EQ(without_hidden_controls("tab\there\r\nline"), "tab\there\r\nline");
  // Neighbours of the controls are letters and stay.
  for (const char* kept : {"\u00A0\u00E9", "\u2014\u2019\u2190\u2070", "\u0628\u061B\u061F"}) {
    EXPECT_EQ(without_hidden_controls(kept), kept);
  }
  // A truncated sequence at the end is left as it is.
  EXPECT_EQ(without_hidden_controls("x\xE2\x80"), "x\xE2\x80");
}

TEST(UntrustedTextTest, PersonNamesHaveOneForm) {
  EXPECT_EQ(normalise_person_name("Bo  Li"), "Bo Li");
  EXPECT_EQ(normalise_person_name(" \tBo \r\n Li\t "), "Bo Li");
  EXPECT_EQ(normalise_person_name("Bo\u202E Li\x01"), "Bo Li");
  EXPECT_EQ(normalise_person_name("Zoë Lind"), "Zoë Lind");
  EXPECT_EQ(normalise_person_name(" \x02 "), "");
}

}  // namespace
}  // namespace calloutd
