#include "daemon/config/matcher.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

bool match(const char* matcher, const Labels& labels) {
  auto m = Matcher::parse(matcher);
  EXPECT_TRUE(m) << m.error();
  return m && m->matches(labels);
}

// The cases follow Alertmanager's documented matcher semantics: regexes are
// fully anchored RE2, and an absent label is the empty string.
TEST(MatcherTest, EqualityAndInequality) {
  EXPECT_TRUE(match(R"(severity="critical")", {{"severity", "critical"}}));
  EXPECT_FALSE(match(R"(severity="critical")", {{"severity", "critical2"}}));
  EXPECT_TRUE(match(R"(team!="qa")", {{"team", "db"}}));
  EXPECT_TRUE(match(R"(team!="qa")", {}));
  EXPECT_FALSE(match(R"(team!="qa")", {{"team", "qa"}}));
  EXPECT_TRUE(match(R"(team="")", {}));
  EXPECT_TRUE(match("team=db", {{"team", "db"}}));
}

TEST(MatcherTest, RegexIsFullyAnchored) {
  EXPECT_TRUE(match(R"(severity=~"critical|page")", {{"severity", "page"}}));
  EXPECT_FALSE(match(R"(severity=~"critical|page")", {{"severity", "pager"}}));
  EXPECT_FALSE(match(R"(severity=~"crit")", {{"severity", "critical"}}));
  EXPECT_TRUE(match(R"(severity=~"crit.*")", {{"severity", "critical"}}));
  EXPECT_TRUE(match(R"(severity!~"warning|info")", {{"severity", "critical"}}));
  EXPECT_TRUE(match(R"(severity=~".*")", {}));
  EXPECT_FALSE(match(R"(severity=~".+")", {}));
}

TEST(MatcherTest, QuotedValuesUnescape) {
  EXPECT_TRUE(match(R"(summary="say \"hi\"")", {{"summary", "say \"hi\""}}));
  EXPECT_TRUE(match(R"(path="a\\b")", {{"path", "a\\b"}}));
}

TEST(MatcherTest, BraceListsAreAllRequired) {
  auto ms = parse_matchers(R"({team="db", severity=~"critical|page"})");
  ASSERT_TRUE(ms) << ms.error();
  ASSERT_EQ(ms->size(), 2u);
  EXPECT_TRUE(all_match(*ms, {{"team", "db"}, {"severity", "page"}}));
  EXPECT_FALSE(all_match(*ms, {{"team", "db"}, {"severity", "info"}}));
}

TEST(MatcherTest, ErrorsQuoteTheInput) {
  auto m = Matcher::parse(R"(severity=!"page")");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), R"(unknown operator "=!" in 'severity=!"page"')");
  auto bad_re = Matcher::parse(R"(a=~"(")");
  ASSERT_FALSE(bad_re);
  EXPECT_EQ(bad_re.error().rfind(R"(bad regular expression "(" in 'a=~"("': )", 0), 0u)
      << bad_re.error();
  EXPECT_FALSE(Matcher::parse("just-text"));
  EXPECT_FALSE(parse_matchers(R"({a="b")"));
}

}  // namespace
}  // namespace calloutd
