// One group cannot stop the others: the daemon binary on a repository where
// one group's state file is bad JSON (committed before start). That group's
// event is held for it alone (calloutd_events_held, the incidents API,
// /-/ready's body), every other group's alerts commit promptly, and once an
// engineer's commit removes the bad file the held event is applied by itself.
// On ec8d518 the whole pipeline held behind that event: of 150 other groups,
// 127 were committed (as a side effect of its retries) and 23 never were.
#include <gtest/gtest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "daemon/state/group_state.hpp"
#include "receivers/alertmanager.hpp"
#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using testing::DaemonProcess;
using testing::git;
using testing::metric;
using testing::sample;
using testing::TempDir;
using testing::write_file;

constexpr const char* k_config = R"(
repository:
  path: callouts
  poll_interval: 1s
routes:
  - matchers: ['severity="warning"', 'service="api"']
    severity: HPI
    technology: api
)";

constexpr const char* k_firing = "am-0.25-firing-two-alerts.json";
// As many as the red team sent: more than one batch (128) behind the held event.
constexpr int k_other_groups = 150;

// The sample's notification as if for another alert name: another group.
std::string other_group(int i) {
  auto body = nlohmann::json::parse(sample(k_firing));
  const std::string name = "HighRequestLatency" + std::to_string(i);
  body["groupLabels"]["alertname"] = name;
  body["commonLabels"]["alertname"] = name;
  body["groupKey"] = "{}:{alertname=\"" + name + "\"}";
  for (auto& alert : body["alerts"]) {
    alert["labels"]["alertname"] = name;
  }
  return body.dump();
}

std::string id_of(const std::string& body) {
  return group_id(*receivers::parse_alertmanager(body));
}

class HeldGroupTest : public ::testing::Test {
 protected:
  HeldGroupTest() {
    write_file(dir.path() / "calloutd.yml", k_config);
    git(dir.path(), "init -q -b main callouts");
    write_file(repo() / "README.md", "# Callouts\n");
    write_file(repo() / state_path(bad_id), "{\"group_id\": \"" + bad_id + "\", oops\n");
    commit("a state file of bad JSON");
  }
  std::filesystem::path repo() const { return dir.path() / "callouts"; }
  void commit(const std::string& message) {
    int status = 0;
    git(repo(), "add -A", &status);
    ASSERT_EQ(status, 0);
    git(repo(), "-c user.name=Eng -c user.email=eng@example.com commit -qm '" + message + "'",
        &status);
    ASSERT_EQ(status, 0);
  }
  bool committed(const std::string& id) const {
    int status = 0;
    auto text = git(repo(), "show main:" + state_path(id), &status);
    return status == 0 && parse_state(text).has_value();
  }

  TempDir dir;
  const std::string bad_id = id_of(sample(k_firing));
};

TEST_F(HeldGroupTest, ABadStateFileHoldsItsGroupOnlyAndIsReleasedWhenRepaired) {
  DaemonProcess d(dir.path(), {"--config.file=calloutd.yml"});
  ASSERT_EQ(d.post_alertmanager(sample(k_firing))->status, 200);
  std::vector<std::string> others;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < k_other_groups; ++i) {
    others.push_back(id_of(other_group(i)));
    ASSERT_EQ(d.post_alertmanager(other_group(i))->status, 200);
  }
  auto all_committed = [&] {
    return std::all_of(others.begin(), others.end(), [&](const auto& id) { return committed(id); });
  };
  const bool prompt = testing::eventually(15, all_committed);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto count =
      std::count_if(others.begin(), others.end(), [&](const auto& id) { return committed(id); });
  std::cout << "committed " << count << " of " << k_other_groups << " other groups in " << took
            << " s\n";
  ASSERT_TRUE(prompt) << count << " of " << k_other_groups << " committed\n" << d.log();

  // The bad group's event is held for it, and says so.
  auto scrape = d.client()->Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_EQ(metric(scrape->body, "calloutd_events_held{reason=\"state_unreadable\"}"), 1)
      << scrape->body;
  auto incidents = d.client()->Get("/api/v1/incidents");
  ASSERT_TRUE(incidents);
  auto held = nlohmann::json::parse(incidents->body).value("held", nlohmann::json::array());
  ASSERT_EQ(held.size(), 1u) << incidents->body;
  EXPECT_EQ(held[0].value("group", ""), bad_id);
  EXPECT_EQ(held[0].value("reason", ""), "state_unreadable");
  EXPECT_EQ(held[0].value("events", 0), 1);
  auto ready = d.client()->Get("/-/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_NE(ready->body.find(bad_id), std::string::npos) << ready->body;
  EXPECT_FALSE(committed(bad_id));

  // An engineer removes the bad file: the held event opens its callout by itself.
  std::filesystem::remove(repo() / state_path(bad_id));
  commit("remove the broken state file");
  const auto repaired = std::chrono::steady_clock::now();
  ASSERT_TRUE(testing::eventually(20, [&] { return committed(bad_id); })) << d.log();
  std::cout << "held event applied "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - repaired).count()
            << " s after the repair\n";
  ASSERT_TRUE(testing::eventually(5, [&] {
    auto s = d.client()->Get("/metrics");
    return s && metric(s->body, "calloutd_events_held{reason=\"state_unreadable\"}") == 0;
  }));
  incidents = d.client()->Get("/api/v1/incidents");
  ASSERT_TRUE(incidents);
  EXPECT_TRUE(
      nlohmann::json::parse(incidents->body).value("held", nlohmann::json::array()).empty());
}

}  // namespace
}  // namespace calloutd
