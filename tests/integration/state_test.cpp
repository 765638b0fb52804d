// The daemon binary on a repository an earlier version left (flat
// .calloutd/groups/<id>.json files, one of a group resolved long ago): at
// start it prunes the old group and moves the others to their shards in one
// commit, loses nothing, and the pruned group's next alert opens a new callout.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "daemon/engine/manual.hpp"
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

GroupState state_of(const std::string& id, const std::string& folder, TimePoint opened,
                    std::optional<TimePoint> resolved) {
  GroupState s;
  s.group_id = id;
  s.incident_id = "am-" + id.substr(0, 10);
  s.folder = folder;
  s.technology = "api";
  s.issue = folder.substr(folder.find('/') + 1);
  s.opened_at = opened;
  s.resolved = resolved.has_value();
  s.resolved_at = resolved.value_or(TimePoint{});
  return s;
}

class StateTest : public ::testing::Test {
 protected:
  StateTest() {
    write_file(dir.path() / "calloutd.yml", k_config);
    git(dir.path(), "init -q -b main callouts");
    const auto now = std::chrono::system_clock::now();
    const auto long_ago = now - std::chrono::hours(24 * 400);
    auto group = receivers::parse_alertmanager(sample(k_firing));
    old_id = group_id(*group);  // the samples' group: resolved long ago
    auto old = state_of(old_id, "api/old-outage-2025", long_ago, long_ago + std::chrono::hours(1));
    old.postmortem_status = "published";  // a pending postmortem keeps its state
    add(old);
    add(state_of(recent_id, "api/recent-outage", now - std::chrono::hours(30),
                 now - std::chrono::hours(24)));
    add(state_of(open_id, "api/open-outage", long_ago, std::nullopt));
    git(repo(), "add -A");
    git(repo(), "-c user.name=Eng -c user.email=eng@example.com commit -q -m 'as 0.x left it'");
  }
  // A state file in the flat layout, and its callout as the daemon writes
  // one (so that the scanner finds no edit in it).
  void add(const GroupState& s) {
    write_file(repo() / flat_state_path(s.group_id), serialize_state(s));
    auto view = manual_view(ManualIncident{"api", s.issue, "HPI", "", s.opened_at}, s.incident_id);
    view.status = s.resolved ? "resolved" : "active";
    write_file(repo() / s.folder / "callout.md", templates.render_callout(view));
  }
  std::filesystem::path repo() const { return dir.path() / "callouts"; }
  std::string files() const { return git(repo(), "ls-tree -r --name-only main"); }

  // The commit whose subject starts with `prefix` ("" when none yet).
  std::string commit_titled(const std::string& prefix) const {
    auto id = git(repo(), "log --format=%H --grep=^" + prefix + " main");
    return id.substr(0, id.find('\n'));
  }

  TempDir dir;
  Templates templates = Templates::embedded();
  std::string old_id;
  const std::string recent_id = "1a2b3c4d5e6f7a8b";
  const std::string open_id = "2b3c4d5e6f7a8b9c";
};

TEST_F(StateTest, StartPrunesOldGroupsAndShardsTheRestInOneCommit) {
  DaemonProcess d(dir.path(), {"--config.file=calloutd.yml"});
  std::string prune;
  ASSERT_TRUE(testing::eventually(15, [&] { return !(prune = commit_titled("Prune")).empty(); }))
      << d.log();
  EXPECT_EQ(git(repo(), "log -1 --format=%s " + prune),
            "Prune .calloutd/: 1 resolved group removed, 2 state files moved to shards\n");
  // One commit: every removal and move, and the README index.
  std::vector<std::string> expected{
      "D\t" + flat_state_path(recent_id), "D\t" + flat_state_path(open_id),
      "D\t" + flat_state_path(old_id),    "A\t" + state_path(recent_id),
      "A\t" + state_path(open_id),        "A\tREADME.md"};
  std::vector<std::string> changed;
  std::istringstream lines(git(repo(), "show --no-renames --name-status --format= " + prune));
  for (std::string line; std::getline(lines, line);) {
    changed.push_back(line);
  }
  std::sort(expected.begin(), expected.end());
  std::sort(changed.begin(), changed.end());
  EXPECT_EQ(changed, expected);
  // Moved byte for byte: nothing of the kept groups lost.
  for (const auto& id : {recent_id, open_id}) {
    EXPECT_EQ(git(repo(), "show " + prune + ":" + state_path(id)),
              git(repo(), "show " + prune + "~1:" + flat_state_path(id)));
  }
  EXPECT_NE(files().find("api/old-outage-2025/callout.md"), std::string::npos);  // stays
  int status = -1;
  git(repo(), "fsck --full --strict", &status);
  EXPECT_EQ(status, 0);
  auto scrape = d.client()->Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_EQ(metric(scrape->body, "calloutd_state_pruned_total"), 1);
  EXPECT_EQ(metric(scrape->body, "calloutd_state_files"), 2);

  // The pruned group fires again: a new callout, not the old one reopened.
  ASSERT_EQ(d.post_alertmanager(sample(k_firing))->status, 200);
  std::optional<GroupState> state;
  ASSERT_TRUE(testing::eventually(10, [&] {
    return (state = parse_state(git(repo(), "show main:" + state_path(old_id)))).has_value();
  })) << d.log();
  EXPECT_FALSE(state->resolved);
  EXPECT_NE(state->folder, "api/old-outage-2025");
  EXPECT_NE(state->incident_id, "am-" + old_id.substr(0, 10));
  EXPECT_NE(files().find(state->folder + "/callout.md"), std::string::npos);
  EXPECT_EQ(git(repo(), "show main:api/old-outage-2025/callout.md"),
            git(repo(), "show " + prune + "~1:api/old-outage-2025/callout.md"));  // untouched
  git(repo(), "fsck --full --strict", &status);
  EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace calloutd
