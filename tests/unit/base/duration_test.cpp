// Durations as the config writes them, read with overflow checks (issue 25:
// `1000000d` wrapped negative in nanoseconds and pruned a group at once;
// `99999999999999999999s` was taken).
#include "daemon/base/duration.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

using namespace std::chrono_literals;

TEST(DurationTest, ReadsEachUnitAndTheirSum) {
  EXPECT_EQ(*parse_duration("90s"), 90s);
  EXPECT_EQ(*parse_duration("15m"), 15min);
  EXPECT_EQ(*parse_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_duration("2d"), 48h);
  EXPECT_EQ(*parse_duration("1w1d"), 192h);
  EXPECT_EQ(*parse_duration("0s"), 0s);
}

TEST(DurationTest, RefusesWhatIsNotADuration) {
  for (const char* text : {"", "5", "5x", "-5s", "1.5h", "h", " 5s", "5s "}) {
    auto d = parse_duration(text);
    ASSERT_FALSE(d) << text;
    EXPECT_NE(d.error().find("invalid duration"), std::string::npos) << d.error();
  }
}

TEST(DurationTest, TenYearsIsTheMostAndLongerIsRefusedNeverWrapped) {
  EXPECT_EQ(*parse_duration("3652d12h"), k_longest_duration);
  EXPECT_EQ(*parse_duration("3650d"), 3650 * 24h);
  for (const char* text :
       {"3652d12h1s", "1000000d", "99999999999999999999s", "18446744073709551616s",
        "9223372036854775807s", "3000d3000d", "100000000000000w"}) {
    auto d = parse_duration(text);
    ASSERT_FALSE(d) << text << " read as " << d->count() << "s";
    EXPECT_NE(d.error().find("longer than 10 years"), std::string::npos) << d.error();
  }
}

}  // namespace
}  // namespace calloutd
