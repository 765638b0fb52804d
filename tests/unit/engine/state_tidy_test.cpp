// The engine's upkeep of .calloutd/ (Engine::tidy_state): state files of
// groups resolved longer ago than the retention removed in one commit and
// forgotten, open and recent ones kept, flat files of earlier versions moved
// to their shards with nothing lost, and a pruned group that fires again
// opening a new callout.
#include <gtest/gtest.h>

#include <cstring>

#include "daemon/engine/engine.hpp"
#include "daemon/state/group_state.hpp"
#include "tests/support/edits.hpp"
#include "tests/support/events.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;
using testing::FakeRepository;
using testing::state_files;

// A notification of group `name` (its one alert firing or resolved), routed
// to api/ by api_routes().
Event group_event(std::uint64_t seq, const std::string& name, AlertStatus status,
                  const std::string& received, const std::string& starts = "2026-09-01T00:00:00Z") {
  Alert alert;
  alert.status = status;
  alert.labels = {{"alertname", name}, {"severity", "warning"}, {"service", "api"}};
  alert.starts_at = at(starts);
  alert.fingerprint = "fp-" + name;
  if (status == AlertStatus::resolved) {
    alert.ends_at = at(received);
  }
  AlertGroup g;
  g.receiver = "team";
  g.status = status;
  g.alerts = {alert};
  g.group_labels = {{"alertname", name}};
  g.common_labels = alert.labels;
  g.group_key = "{}:{alertname=\"" + name + "\"}";
  return Event{seq, at(received), g};
}

class StateTidyTest : public ::testing::Test {
 protected:
  StateTidyTest() { config.routes = testing::api_routes().routes; }

  // Opens group `name` at `opened` and, unless `resolved` is empty, resolves it
  // then and publishes its postmortem an hour later (a pending one is kept).
  ApplyResult incident(const std::string& name, const std::string& opened,
                       const std::string& resolved = "", bool publish = true) {
    auto r = engine.apply(group_event(++seq, name, AlertStatus::firing, opened));
    EXPECT_EQ(r.outcome, Outcome::opened) << r.error;
    if (!resolved.empty()) {
      EXPECT_EQ(engine.apply(group_event(++seq, name, AlertStatus::resolved, resolved)).outcome,
                Outcome::updated);
      if (publish) {
        publish_postmortem(r.folder, at(resolved) + std::chrono::hours(1));
      }
    }
    return r;
  }
  // An engineer sets the postmortem's Status to published and commits.
  void publish_postmortem(const std::string& folder, TimePoint when) {
    testing::edit_by_hand(
        repo, folder + "/postmortem.md",
        [](std::string text) {
          auto at = text.find("## Status\n\ndraft");
          EXPECT_NE(at, std::string::npos);
          return text.replace(at, strlen("## Status\n\ndraft"), "## Status\n\npublished");
        },
        when);
    EXPECT_EQ(testing::apply_edits(engine, repo, when).size(), 1u);
  }
  static std::string id_of(const std::string& name) {
    return group_id(
        *group_event(0, name, AlertStatus::firing, "2026-09-01T00:00:00Z").alert_group());
  }

  Config config;
  FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  std::uint64_t seq = 0;
};

TEST_F(StateTidyTest, OldResolvedGroupsArePrunedInOneCommitOpenAndRecentOnesKept) {
  auto old = incident("OldOutage", "2026-09-01T00:00:00Z", "2026-09-01T01:00:00Z");
  auto recent = incident("RecentOutage", "2026-10-20T00:00:00Z", "2026-10-20T01:00:00Z");
  auto open = incident("StillOpen", "2026-09-02T00:00:00Z");
  ASSERT_EQ(state_files(repo, repo.head()).size(), 3u);
  const auto commits = repo.commit_count();

  // 30 days (the default retention) after the old one resolved, not the recent one.
  auto tidy = engine.tidy_state(at("2026-11-01T00:00:00Z"));
  EXPECT_EQ(tidy.pruned, 1u);
  EXPECT_EQ(tidy.files, 2u);
  EXPECT_FALSE(tidy.commit.empty()) << tidy.error;
  EXPECT_EQ(repo.commit_count(), commits + 1);
  EXPECT_NE(repo.messages.back().find("1 resolved group removed"), std::string::npos)
      << repo.messages.back();
  EXPECT_EQ(state_files(repo, repo.head()),
            (std::vector<std::string>{state_path(id_of("RecentOutage")),
                                      state_path(id_of("StillOpen"))}));
  // The callouts stay, the incidents known are the kept ones.
  EXPECT_FALSE(repo.file(old.folder + "/callout.md").empty());
  EXPECT_TRUE(engine.has_incident(recent.incident_id));
  EXPECT_TRUE(engine.has_incident(open.incident_id));
  EXPECT_FALSE(engine.has_incident(old.incident_id));
  EXPECT_EQ(engine.state_count(), 2u);
}

TEST_F(StateTidyTest, APendingPostmortemKeepsItsStateUntilPublished) {
  auto pending = incident("OldOutage", "2026-09-01T00:00:00Z", "2026-09-01T01:00:00Z", false);
  // Past the retention, but the README index lists it under Postmortems pending.
  EXPECT_EQ(engine.tidy_state(at("2026-11-01T00:00:00Z")).pruned, 0u);
  EXPECT_TRUE(engine.has_incident(pending.incident_id));
  publish_postmortem(pending.folder, at("2026-11-01T00:10:00Z"));
  EXPECT_EQ(engine.tidy_state(at("2026-11-01T02:00:00Z")).pruned, 1u);
  EXPECT_FALSE(engine.has_incident(pending.incident_id));
}

TEST_F(StateTidyTest, RunsAtMostHourlyUnlessAskedNow) {
  incident("OldOutage", "2026-09-01T00:00:00Z", "2026-09-01T01:00:00Z");
  EXPECT_EQ(engine.tidy_state(at("2026-09-05T00:00:00Z")).pruned, 0u);  // the first call runs
  // Due by retention now, but within the hour of the last run: not yet.
  EXPECT_EQ(engine.tidy_state(at("2026-09-05T00:30:00Z")).pruned, 0u);
  auto commits = repo.commit_count();
  config.state_retention = std::chrono::hours(48);
  EXPECT_EQ(engine.tidy_state(at("2026-09-05T00:40:00Z"), Engine::When::now).pruned, 1u);
  EXPECT_EQ(repo.commit_count(), commits + 1);
  // Nothing left to do: no empty commit.
  EXPECT_TRUE(engine.tidy_state(at("2026-09-05T02:00:00Z")).commit.empty());
  EXPECT_EQ(repo.commit_count(), commits + 1);
}

TEST_F(StateTidyTest, TheRetentionNeverGoesBelowTheReopenWindow) {
  config.state_retention = std::chrono::hours(48);
  config.reopen_window = std::chrono::hours(24 * 10);
  incident("OldOutage", "2026-09-01T00:00:00Z", "2026-09-01T01:00:00Z");
  EXPECT_EQ(engine.tidy_state(at("2026-09-05T00:00:00Z")).pruned, 0u);  // 4 days < 10
  EXPECT_EQ(engine.tidy_state(at("2026-09-12T00:00:00Z")).pruned, 1u);
}

// As past the reopen window anyway: the pruned group's next alert is a new incident.
TEST_F(StateTidyTest, APrunedGroupThatFiresAgainOpensANewCallout) {
  auto first = incident("OldOutage", "2026-09-01T00:00:00Z", "2026-09-01T01:00:00Z");
  ASSERT_EQ(engine.tidy_state(at("2026-11-01T00:00:00Z")).pruned, 1u);
  auto again = engine.apply(group_event(++seq, "OldOutage", AlertStatus::firing,
                                        "2026-11-02T00:00:00Z", "2026-11-01T23:59:00Z"));
  EXPECT_EQ(again.outcome, Outcome::opened) << again.error;
  EXPECT_NE(again.incident_id, first.incident_id);
  EXPECT_FALSE(repo.file(first.folder + "/callout.md").empty());
  EXPECT_EQ(state_files(repo, repo.head()),
            (std::vector<std::string>{state_path(id_of("OldOutage"))}));
}

// A repository of a version before the shards: every state read, each file
// moved to its shard byte for byte (one commit), or with the group's next write.
TEST_F(StateTidyTest, FlatStateFilesAreReadAndMovedToShardsWithNothingLost) {
  incident("Alpha", "2026-10-20T00:00:00Z");
  incident("Beta", "2026-10-21T00:00:00Z", "2026-10-21T01:00:00Z");
  incident("Gamma", "2026-10-22T00:00:00Z");
  std::map<std::string, std::string> contents;  // id -> file
  for (const auto& path : state_files(repo, repo.head())) {
    auto id = *state_id_of_path(path);
    contents[id] = repo.file(path);
    repo.remove_by_hand(path);  // as the earlier version laid them out
    repo.commit_by_hand(flat_state_path(id), contents[id]);
  }
  Engine restarted(config, repo, templates);
  restarted.load();
  EXPECT_EQ(restarted.open_incidents().size(), 2u);

  // Gamma's next event writes it to its shard and removes the flat file.
  ASSERT_EQ(
      restarted.apply(group_event(++seq, "Gamma", AlertStatus::resolved, "2026-10-23T00:00:00Z"))
          .outcome,
      Outcome::updated);
  EXPECT_EQ(repo.file(flat_state_path(id_of("Gamma"))), "");
  EXPECT_FALSE(repo.file(state_path(id_of("Gamma"))).empty());

  auto tidy = restarted.tidy_state(at("2026-10-24T00:00:00Z"));
  EXPECT_EQ(tidy.moved, 2u);
  EXPECT_EQ(tidy.pruned, 0u);
  std::vector<std::string> expected;
  for (const auto& [id, content] : contents) {
    expected.push_back(state_path(id));
    if (id != id_of("Gamma")) {
      EXPECT_EQ(repo.file(state_path(id)), content);
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(state_files(repo, repo.head()), expected);
  EXPECT_EQ(restarted.open_incidents().size(), 1u);  // Alpha
}

// A fetch that brings a pruning commit (the other daemon of the pair)
// forgets the groups in memory too.
TEST_F(StateTidyTest, ARemovalFetchedFromTheRemoteIsForgotten) {
  auto old = incident("OldOutage", "2026-09-01T00:00:00Z", "2026-09-01T01:00:00Z");
  auto before = repo.head();
  repo.remove_by_hand(state_path(id_of("OldOutage")));
  engine.refresh(before, repo.head());
  EXPECT_FALSE(engine.has_incident(old.incident_id));
  EXPECT_EQ(engine.state_count(), 0u);
}

}  // namespace
}  // namespace calloutd
