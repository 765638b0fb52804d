// The exposition a fresh daemon serves on /metrics: every family's name, help
// text, type and the series it has from the start, pinned
// against tests/unit/metrics/exposition.expected, so that no change to Metrics
// renames, rewords or drops one unnoticed (dashboards and alert rules query
// them by name).
#include <gtest/gtest.h>

#include <string>

#include "daemon/metrics/metrics.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

const std::string k_expected =
    std::string(CALLOUTD_SOURCE_DIR) + "/tests/unit/metrics/exposition.expected";

TEST(MetricsTest, FreshExpositionMatchesThePinnedOne) {
  Metrics metrics;
  metrics.enable_remote();
  // As strings, so that a mismatch prints a line diff.
  EXPECT_EQ(metrics.serialize(), testing::read_file(k_expected));
}

TEST(MetricsTest, RemoteSeriesOnlyOnceEnabled) {
  Metrics metrics;
  EXPECT_EQ(metrics.serialize().find("calloutd_remote_"), std::string::npos);
  metrics.enable_remote();
  EXPECT_NE(metrics.serialize().find("# HELP calloutd_remote_up "), std::string::npos);
}

// The engine hands over running totals: the counter adds what is new.
TEST(MetricsTest, StateFilesUnreadableFollowsTheEnginesTotals) {
  Metrics metrics;
  metrics.set_state_files_unreadable({{"group", 2}});
  metrics.set_state_files_unreadable({{"group", 2}, {"shifts", 1}});
  metrics.set_state_files_unreadable({{"group", 3}, {"shifts", 1}});
  auto text = metrics.serialize();
  EXPECT_NE(text.find("calloutd_state_files_unreadable_total{kind=\"group\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("calloutd_state_files_unreadable_total{kind=\"shifts\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace calloutd
