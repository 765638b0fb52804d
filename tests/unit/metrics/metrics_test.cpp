// The exposition a fresh daemon serves on /metrics: every family's name, help
// text, type and the series it has from the start, pinned
// against tests/unit/metrics/exposition.expected, so that no change to Metrics
// renames, rewords or drops one unnoticed (dashboards and alert rules query
// them by name). After a deliberate change, CALLOUTD_UPDATE_EXPECTED=1 writes
// the file anew from the code; review its diff.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "daemon/metrics/metrics.hpp"
#include "receivers/event.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

const std::string k_expected =
    std::string(CALLOUTD_SOURCE_DIR) + "/tests/unit/metrics/exposition.expected";

// As the daemon's config of two technologies (api, and unclassified for a
// route that leaves it to the labels) declares them.
const KnownLabels k_known{
    {"MPI", "HPI"}, {"api", "unclassified"}, {"mitigate", "prevent", "process", "other"}};

// The exposition with the values of the process_* series, which change from
// run to run, replaced by "<value>".
std::string process_values_hidden(const std::string& exposition) {
  std::istringstream lines(exposition);
  std::string line, out;
  while (std::getline(lines, line)) {
    if (line.starts_with("process_")) {
      line = line.substr(0, line.rfind(' ')) + " <value>";
    }
    out += line + "\n";
  }
  return out;
}

TEST(MetricsTest, FreshExpositionMatchesThePinnedOne) {
  Metrics metrics;
  metrics.enable_remote();
  metrics.declare(k_known);
  metrics.set_build_info({"0.1.0", "abc1234", "1.5.1"});
  auto text = process_values_hidden(metrics.serialize());
  if (std::getenv("CALLOUTD_UPDATE_EXPECTED") != nullptr) {
    testing::write_file(k_expected, text);
  }
  // As strings, so that a mismatch prints a line diff.
  EXPECT_EQ(text, testing::read_file(k_expected));
}

// Grafana's panels and the alert rules show 0, not "No data", before the
// first incident: every known combination is there from the start.
TEST(MetricsTest, DeclaredLabelValuesAreZeroFromTheStart) {
  Metrics metrics;
  EXPECT_EQ(metrics.serialize().find("calloutd_incidents_open{"), std::string::npos);
  metrics.declare(k_known);
  auto text = metrics.serialize();
  auto has = [&](const std::string& series) {
    return text.find("\n" + series + " 0\n") != std::string::npos;
  };
  for (const auto& technology : k_known.technologies) {
    for (const auto& severity : k_known.severities) {
      EXPECT_TRUE(has("calloutd_incidents_open{severity=\"" + severity + "\",technology=\"" +
                      technology + "\"}"))
          << severity << " " << technology << "\n"
          << text;
    }
    for (const auto& type : k_known.item_types) {
      auto labels = "{technology=\"" + technology + "\",type=\"" + type + "\"}";
      EXPECT_TRUE(has("calloutd_action_items_open" + labels)) << labels << "\n" << text;
      EXPECT_TRUE(has("calloutd_action_items_overdue" + labels)) << labels << "\n" << text;
    }
    EXPECT_TRUE(has("calloutd_callouts_total{issue=\"\",technology=\"" + technology + "\"}"))
        << technology << "\n"
        << text;
  }
}

// The role label is the template's Team roles key, one name per role: the
// engine's "Current Incident Lead" is not also shown as "Incident Lead".
TEST(MetricsTest, OnShiftRolesAreTheTemplatesRoleNames) {
  Metrics metrics;
  std::map<std::string, int> on_shift;
  for (const char* role : k_team_roles) {
    on_shift[role] = 1;
  }
  metrics.set_responders(on_shift, {}, 0, 0, 0);
  auto text = metrics.serialize();
  std::set<std::string> labels;
  static const std::regex k_series(R"re(\ncalloutd_responders_on_shift\{role="([^"]*)"\} )re");
  for (std::sregex_iterator it(text.begin(), text.end(), k_series), end; it != end; ++it) {
    labels.insert((*it)[1].str());
  }
  EXPECT_EQ(labels, std::set<std::string>(std::begin(k_team_roles), std::end(k_team_roles)))
      << text;
}

// A declared series stays, at 0 again, once the incident it counted resolves.
TEST(MetricsTest, ADeclaredSeriesFallsBackToZero) {
  Metrics metrics;
  metrics.declare(k_known);
  ScanTotals open;
  open.open_incidents[{"MPI", "api"}] = 2;
  metrics.set_scan_totals(open);
  const std::string series = R"(calloutd_incidents_open{severity="MPI",technology="api"})";
  EXPECT_NE(metrics.serialize().find(series + " 2\n"), std::string::npos);
  metrics.set_scan_totals(ScanTotals{});
  EXPECT_NE(metrics.serialize().find(series + " 0\n"), std::string::npos);
}

TEST(MetricsTest, BuildInfoIsOneWithItsLabels) {
  Metrics metrics;
  metrics.set_build_info({"0.1.0", "unknown", "1.5.1"});
  EXPECT_NE(
      metrics.serialize().find(
          "\ncalloutd_build_info{libgit2=\"1.5.1\",revision=\"unknown\",version=\"0.1.0\"} 1\n"),
      std::string::npos);
}

TEST(MetricsTest, ProcessMetricsAreReadAtEachScrape) {
  Metrics metrics;
  auto text = metrics.serialize();
  for (const char* family :
       {"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds", "process_cpu_seconds_total"}) {
    EXPECT_NE(text.find(std::string("\n# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_GT(testing::metric(text, "process_resident_memory_bytes"), 0);
  EXPECT_GT(testing::metric(text, "process_open_fds"), 0);
  // A file opened between two scrapes is counted by the second.
  auto before = testing::metric(text, "process_open_fds");
  std::FILE* file = std::fopen("/proc/self/stat", "r");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(testing::metric(metrics.serialize(), "process_open_fds"), before + 1);
  std::fclose(file);
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

// The repository's size and its maintenance runs, as the alert rule and
// the dashboard read them.
TEST(MetricsTest, RepositoryObjectsAndMaintenanceRuns) {
  Metrics metrics;
  metrics.set_repository_size_limit(1e9);
  metrics.set_repository_objects(123456, 700, 3);
  metrics.record_maintenance("packed", 2.5);
  metrics.record_maintenance("not_needed", 0.01);
  metrics.set_gc_log_present(true);
  auto text = metrics.serialize();
  EXPECT_EQ(testing::metric(text, "calloutd_repository_size_limit_bytes"), 1e9);
  EXPECT_EQ(testing::metric(text, "calloutd_repository_size_bytes"), 123456);
  EXPECT_EQ(testing::metric(text, "calloutd_repository_loose_objects"), 700);
  EXPECT_EQ(testing::metric(text, "calloutd_repository_packs"), 3);
  EXPECT_EQ(testing::metric(text, "calloutd_repository_maintenance_runs_total{outcome=\"packed\"}"),
            1);
  EXPECT_EQ(
      testing::metric(text, "calloutd_repository_maintenance_runs_total{outcome=\"not_needed\"}"),
      1);
  EXPECT_EQ(testing::metric(text, "calloutd_repository_maintenance_duration_seconds"), 0.01);
  EXPECT_GT(testing::metric(text, "calloutd_repository_maintenance_last_run_timestamp_seconds"), 0);
  EXPECT_EQ(testing::metric(text, "calloutd_repository_gc_log_present"), 1);
}

}  // namespace
}  // namespace calloutd
