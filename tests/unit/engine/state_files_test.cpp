// The engine's own files under .calloutd/ (each group's state, the shift
// book) when they cannot be read (a damaged object) or parsed (a bad edit by
// hand): never taken for absent ones, so the engine keeps what it held,
// never opens a second callout for an open incident, and counts each time
// (calloutd_state_files_unreadable_total).
#include <gtest/gtest.h>

#include "daemon/engine/engine.hpp"
#include "daemon/state/group_state.hpp"
#include "daemon/state/shifts.hpp"
#include "receivers/alertmanager.hpp"
#include "tests/support/events.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;
using testing::FakeRepository;

constexpr const char* k_shifts = ".calloutd/shifts.json";

class StateFilesTest : public ::testing::Test {
 protected:
  StateFilesTest() {
    config.routes = testing::api_routes().routes;
    opened = engine.apply(testing::firing_event(1, "2026-11-22T03:50:00Z"));
    EXPECT_EQ(opened.outcome, Outcome::opened);
    // Alone in Operations: Ann's shift is in the shift book.
    auto joined = engine.apply(
        Event{2, at("2026-11-22T04:00:00Z"),
              RoleRequest{opened.incident_id, "join", "Operations", "Ann Lee", "", {}}});
    EXPECT_EQ(joined.outcome, Outcome::updated);
    state_file = testing::state_files(repo, repo.head()).front();
  }

  // Commits `content` as `path` by hand, and tells `e` the branch moved (a fetch).
  void fetched(Engine& e, const std::string& path, const std::string& content) {
    auto before = repo.head();
    repo.commit_by_hand(path, content);
    e.refresh(before, repo.head());
  }
  std::uint64_t unreadable(const Engine& e, const std::string& kind) {
    auto totals = e.unreadable_state_files();
    return totals.contains(kind) ? totals.at(kind) : 0;
  }
  std::chrono::seconds ann_worked(const Engine& e) {
    for (const auto& [person, seconds] :
         e.responder_stats(at("2026-11-22T05:00:00Z")).work_seconds) {
      if (person == "Ann Lee") {
        return std::chrono::seconds(static_cast<long>(seconds));
      }
    }
    return std::chrono::seconds(0);
  }

  Config config;
  FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  ApplyResult opened;
  std::string state_file;
};

// Started on a repository whose group state was broken by hand: the group's
// next notification is not a new incident in a second folder; it fails (and
// is retried by the pipeline) until the file is fixed.
TEST_F(StateFilesTest, CorruptGroupStateAtStartIsCountedAndNeverReopensTheIncident) {
  auto good = repo.file(state_file);
  repo.commit_by_hand(state_file, "{\"version\": 1, \"group_id\": ");
  Engine restarted{config, repo, templates};
  restarted.load();
  EXPECT_EQ(unreadable(restarted, "group"), 1u);
  auto commits = repo.commit_count();

  auto again = restarted.apply(testing::firing_event(1, "2026-11-22T04:10:00Z"));
  EXPECT_EQ(again.outcome, Outcome::failed);
  EXPECT_NE(again.error.find(state_file), std::string::npos) << again.error;
  EXPECT_EQ(repo.commit_count(), commits);
  EXPECT_EQ(repo.list(repo.head(), "api").size(), 1u);  // no second folder
  EXPECT_EQ(unreadable(restarted, "group"), 2u);        // once per batch

  // Fixed by hand: the retry finds the open incident.
  repo.commit_by_hand(state_file, good);
  auto retried = restarted.apply(testing::firing_event(1, "2026-11-22T04:10:00Z"));
  EXPECT_EQ(retried.outcome, Outcome::unchanged);
  EXPECT_EQ(retried.folder, opened.folder);
  EXPECT_EQ(repo.list(repo.head(), "api").size(), 1u);
}

// The failure says it is the group's own, and which group, so that the
// pipeline holds that group alone; the group's later event in the batch
// waits behind it, and a held group's events are not applied at all.
TEST_F(StateFilesTest, AnUnreadableGroupFailsForItsGroupAloneAndHoldsItsLaterEvents) {
  const auto good = repo.file(state_file);
  repo.commit_by_hand(state_file, "not json");
  Engine restarted{config, repo, templates};
  restarted.load();
  const auto group = group_id(testing::alert_group(testing::sample(testing::k_firing_sample)));
  auto results = restarted.apply_batch({testing::firing_event(3, "2026-11-22T04:10:00Z"),
                                        testing::firing_event(4, "2026-11-22T04:11:00Z")});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].failure, Failure::state_unreadable);
  EXPECT_EQ(results[0].group, group);
  EXPECT_EQ(results[1].failure, Failure::behind_held);
  EXPECT_EQ(results[1].group, group);
  EXPECT_TRUE(is_group_failure(results[1].failure));

  repo.commit_by_hand(state_file, good);  // readable again, but the pipeline still holds it
  auto held = restarted.apply_batch({testing::firing_event(5, "2026-11-22T04:12:00Z")}, {group});
  EXPECT_EQ(held[0].failure, Failure::behind_held);
  EXPECT_EQ(failure_name(held[0].failure), "behind_held");
}

// A commit that fails is nobody's own: Failure::commit.
TEST_F(StateFilesTest, AFailedCommitIsNoGroupsOwnFailure) {
  repo.failing_commits = 1;
  auto r = engine.apply(Event{3, at("2026-11-22T04:30:00Z"),
                              testing::alert_group(testing::sample("am-0.25-resolved.json"))});
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(r.failure, Failure::commit);
  EXPECT_FALSE(is_group_failure(r.failure));
}

TEST_F(StateFilesTest, GroupStateReadErrorAtStartIsCountedAndNeverReopensTheIncident) {
  repo.fail_reads_of(state_file, "object damaged");
  Engine restarted{config, repo, templates};
  restarted.load();
  EXPECT_EQ(unreadable(restarted, "group"), 1u);
  auto commits = repo.commit_count();

  auto again = restarted.apply(testing::firing_event(1, "2026-11-22T04:10:00Z"));
  EXPECT_EQ(again.outcome, Outcome::failed);
  EXPECT_NE(again.error.find("object damaged"), std::string::npos) << again.error;
  EXPECT_EQ(repo.commit_count(), commits);

  repo.heal_reads_of(state_file);
  auto retried = restarted.apply(testing::firing_event(1, "2026-11-22T04:10:00Z"));
  EXPECT_EQ(retried.outcome, Outcome::unchanged);
  EXPECT_EQ(retried.folder, opened.folder);
}

// A fetch brings a broken group state: the engine keeps the incident it
// knows, and its next commit for the group writes the file again.
TEST_F(StateFilesTest, CorruptGroupStateFetchedKeepsTheStateInMemory) {
  fetched(engine, state_file, "not json");
  EXPECT_EQ(unreadable(engine, "group"), 1u);
  ASSERT_EQ(engine.open_incidents().size(), 1u);
  EXPECT_EQ(engine.open_incidents().front().incident_id, opened.incident_id);

  auto joined =
      engine.apply(Event{3, at("2026-11-22T04:20:00Z"),
                         RoleRequest{opened.incident_id, "join", "Secondary", "Bo Chen", "", {}}});
  EXPECT_EQ(joined.outcome, Outcome::updated);
  auto state = parse_state(repo.file(state_file));
  ASSERT_TRUE(state);
  EXPECT_EQ(state->incident_id, opened.incident_id);
  EXPECT_TRUE(state->roles.contains("Operations"));
}

TEST_F(StateFilesTest, GroupStateReadErrorOnAFetchKeepsTheStateInMemory) {
  repo.fail_reads_of(state_file, "object damaged");
  fetched(engine, state_file, repo.file(state_file) + "\n");
  EXPECT_EQ(unreadable(engine, "group"), 1u);
  EXPECT_EQ(engine.open_incidents().size(), 1u);
}

// A group state removed in the files is removed from memory: the files are the truth.
TEST_F(StateFilesTest, GroupStateRemovedOnAFetchIsForgotten) {
  auto before = repo.head();
  repo.remove_by_hand(state_file);
  engine.refresh(before, repo.head());
  EXPECT_TRUE(engine.open_incidents().empty());
  EXPECT_EQ(unreadable(engine, "group"), 0u);
}

TEST_F(StateFilesTest, CorruptShiftsFetchedKeepTheShiftsInMemory) {
  ASSERT_EQ(ann_worked(engine), std::chrono::hours(1));
  fetched(engine, k_shifts, "[1, 2");
  EXPECT_EQ(unreadable(engine, "shifts"), 1u);
  EXPECT_EQ(ann_worked(engine), std::chrono::hours(1));
}

TEST_F(StateFilesTest, ShiftsOfTheWrongShapeCountAsUnreadable) {
  fetched(engine, k_shifts, R"({"Ann Lee": "since noon"})");
  EXPECT_EQ(unreadable(engine, "shifts"), 1u);
  EXPECT_EQ(ann_worked(engine), std::chrono::hours(1));
}

TEST_F(StateFilesTest, ShiftsReadErrorOnAFetchKeepsTheShiftsInMemory) {
  repo.fail_reads_of(k_shifts, "object damaged");
  fetched(engine, k_shifts, "{}");
  EXPECT_EQ(unreadable(engine, "shifts"), 1u);
  EXPECT_EQ(ann_worked(engine), std::chrono::hours(1));
}

// Removed in the files (a reset onto a remote that never had them): none, as
// the files say; the journal's events applied again make them anew.
TEST_F(StateFilesTest, ShiftsRemovedOnAFetchAreForgotten) {
  auto before = repo.head();
  repo.remove_by_hand(k_shifts);
  engine.refresh(before, repo.head());
  EXPECT_EQ(ann_worked(engine), std::chrono::seconds(0));
  EXPECT_EQ(unreadable(engine, "shifts"), 0u);
}

TEST_F(StateFilesTest, CorruptShiftsAtStartAreCounted) {
  repo.commit_by_hand(k_shifts, "{oops");
  Engine restarted{config, repo, templates};
  restarted.load();
  EXPECT_EQ(unreadable(restarted, "shifts"), 1u);
  EXPECT_EQ(unreadable(restarted, "group"), 0u);
  EXPECT_EQ(restarted.open_incidents().size(), 1u);
}

// When the branch history cannot tell what changed, everything is read
// again, and what cannot be read keeps what memory held.
TEST_F(StateFilesTest, FullReloadKeepsWhatCannotBeRead) {
  repo.commit_by_hand(state_file, "garbage");
  repo.commit_by_hand(k_shifts, "garbage");
  engine.refresh("", repo.head());
  EXPECT_EQ(unreadable(engine, "group"), 1u);
  EXPECT_EQ(unreadable(engine, "shifts"), 1u);
  EXPECT_EQ(engine.open_incidents().size(), 1u);
  EXPECT_EQ(ann_worked(engine), std::chrono::hours(1));
}

// A callout that cannot be read is not a deleted one: the event fails and
// the callout is not written again from the template (its timeline kept).
TEST_F(StateFilesTest, CalloutReadErrorFailsTheEventAndKeepsTheCallout) {
  auto callout = opened.folder + "/callout.md";
  auto text = repo.file(callout);
  auto commits = repo.commit_count();
  repo.fail_reads_of(callout, "object damaged");
  auto joined =
      engine.apply(Event{3, at("2026-11-22T04:20:00Z"),
                         RoleRequest{opened.incident_id, "join", "Secondary", "Bo Chen", "", {}}});
  EXPECT_EQ(joined.outcome, Outcome::failed);
  EXPECT_NE(joined.error.find("object damaged"), std::string::npos) << joined.error;
  EXPECT_EQ(repo.commit_count(), commits);
  EXPECT_EQ(repo.file(callout), text);

  repo.heal_reads_of(callout);
  auto retried =
      engine.apply(Event{3, at("2026-11-22T04:20:00Z"),
                         RoleRequest{opened.incident_id, "join", "Secondary", "Bo Chen", "", {}}});
  EXPECT_EQ(retried.outcome, Outcome::updated);
  EXPECT_NE(repo.file(callout).find("Bo Chen"), std::string::npos);
}

}  // namespace
}  // namespace calloutd
