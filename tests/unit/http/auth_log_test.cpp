// AuthFailureLog: the first 401 per (address, reason) is logged, repeats are
// counted and summarised once a minute, and the pairs tracked are capped.
#include "daemon/http/auth_log.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using Kind = AuthFailureLog::Line::Kind;

class SteppedClock final : public Clock {
 public:
  TimePoint now() const override { return m_now; }
  void advance(std::chrono::seconds by) { m_now += by; }

 private:
  TimePoint m_now = testing::at("2026-11-30T12:00:00Z");
};

class AuthLogTest : public ::testing::Test {
 protected:
  SteppedClock clock;
  AuthFailureLog log{clock, 4};
};

TEST_F(AuthLogTest, FirstRefusalIsLoggedWithItsEndpoint) {
  auto lines = log.refused("192.0.2.7", "wrong bearer token", "/api/v1/alertmanager");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].kind, Kind::first);
  EXPECT_EQ(lines[0].address, "192.0.2.7");
  EXPECT_EQ(lines[0].reason, "wrong bearer token");
  EXPECT_EQ(lines[0].endpoint, "/api/v1/alertmanager");
}

TEST_F(AuthLogTest, RepeatsWithinAMinuteAreCountedNotLogged) {
  log.refused("192.0.2.7", "wrong bearer token", "/api/v1/alertmanager");
  for (int i = 0; i < 5; ++i) {
    clock.advance(std::chrono::seconds(10));
    EXPECT_TRUE(log.refused("192.0.2.7", "wrong bearer token", "/metrics").empty()) << i;
  }
  EXPECT_TRUE(log.due().empty());
  // Another reason or another address is a pair of its own.
  EXPECT_EQ(log.refused("192.0.2.7", "missing credentials", "/metrics").size(), 1u);
  EXPECT_EQ(log.refused("192.0.2.8", "wrong bearer token", "/metrics").size(), 1u);
}

TEST_F(AuthLogTest, SummaryAfterAMinuteCountsTheRepeats) {
  log.refused("192.0.2.7", "wrong bearer token", "/api/v1/alertmanager");
  for (int i = 0; i < 3; ++i) {
    clock.advance(std::chrono::seconds(15));
    log.refused("192.0.2.7", "wrong bearer token", "/api/v1/alertmanager");
  }
  clock.advance(std::chrono::seconds(15));
  auto lines = log.due();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].kind, Kind::summary);
  EXPECT_EQ(lines[0].address, "192.0.2.7");
  EXPECT_EQ(lines[0].reason, "wrong bearer token");
  EXPECT_EQ(lines[0].count, 3u);
  // The count starts again; a quiet minute forgets the pair, so its next
  // refusal is a first line again.
  clock.advance(std::chrono::seconds(60));
  EXPECT_TRUE(log.due().empty());
  EXPECT_EQ(log.tracked(), 0u);
  auto again = log.refused("192.0.2.7", "wrong bearer token", "/api/v1/alertmanager");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].kind, Kind::first);
}

TEST_F(AuthLogTest, RepeatAfterAMinuteCarriesTheSummary) {
  log.refused("192.0.2.7", "bad signature", "/api/v1/pagerduty");
  log.refused("192.0.2.7", "bad signature", "/api/v1/pagerduty");
  clock.advance(std::chrono::seconds(61));
  auto lines = log.refused("192.0.2.7", "bad signature", "/api/v1/pagerduty");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].kind, Kind::summary);
  EXPECT_EQ(lines[0].count, 1u);  // the repeat before; this one opens the next minute
  clock.advance(std::chrono::seconds(60));
  lines = log.due();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].count, 1u);
}

TEST_F(AuthLogTest, PairsBeyondTheCapAreCountedInOneBucket) {
  for (int i = 0; i < 4; ++i) {
    log.refused("192.0.2." + std::to_string(i), "missing credentials", "/metrics");
  }
  auto overflow = log.refused("198.51.100.1", "missing credentials", "/metrics");
  ASSERT_EQ(overflow.size(), 1u);
  EXPECT_EQ(overflow[0].kind, Kind::first);
  EXPECT_EQ(overflow[0].address, AuthFailureLog::k_other_address);
  for (int i = 2; i < 1000; ++i) {
    EXPECT_TRUE(
        log.refused("198.51.100." + std::to_string(i), "missing credentials", "/metrics").empty());
  }
  EXPECT_EQ(log.tracked(), 4u);
  clock.advance(std::chrono::seconds(60));
  bool other_summarised = false;
  for (const auto& line : log.due()) {
    if (line.address == AuthFailureLog::k_other_address) {
      other_summarised = true;
      EXPECT_EQ(line.count, 998u);
    }
  }
  EXPECT_TRUE(other_summarised);
}

}  // namespace
}  // namespace calloutd
