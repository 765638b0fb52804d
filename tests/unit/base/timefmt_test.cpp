#include "daemon/base/timefmt.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

TEST(TimefmtTest, ParsesWhatAlertmanagerSends) {
  EXPECT_EQ(format_rfc3339_millis(*parse_rfc3339("2026-11-22T03:46:06.64Z")),
            "2026-11-22T03:46:06.640Z");
  EXPECT_EQ(format_rfc3339_millis(*parse_rfc3339("2019-09-27T16:27:56.612666101Z")),
            "2019-09-27T16:27:56.612Z");
  EXPECT_EQ(format_utc(*parse_rfc3339("2026-11-22T11:46:06+08:00")), "2026-11-22 03:46:06 UTC");
  EXPECT_EQ(format_date(*parse_rfc3339("2026-11-22T23:59:59-01:00")), "2026-11-23");
}

// Found by fuzzing: years the nanosecond clock cannot hold overflowed.
TEST(TimefmtTest, GoZeroTimeIsUnsetAndFarYearsAreRefused) {
  EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z"), TimePoint{});
  EXPECT_EQ(parse_rfc3339("1013-11-22T03:00:00Z"), TimePoint{});
  EXPECT_EQ(parse_rfc3339("9999-12-31T23:59:59Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-13-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("yesterday"), std::nullopt);
  EXPECT_EQ(parse_timeline_time("1013-11-22 03:00:00 UTC - x"), std::nullopt);
}

TEST(TimefmtTest, TimelineTimes) {
  EXPECT_EQ(parse_timeline_time("2026-11-22 03:45:52 UTC - Alertmanager - x"),
            parse_rfc3339("2026-11-22T03:45:52Z"));
  EXPECT_EQ(parse_timeline_time("2026-11-22 03:45 - Operations - x"),
            parse_rfc3339("2026-11-22T03:45:00Z"));
  EXPECT_EQ(parse_timeline_time("03:45 - Operations - x"), std::nullopt);
}

}  // namespace
}  // namespace calloutd
