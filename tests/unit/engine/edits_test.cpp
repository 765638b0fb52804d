// People's edits of the files as events: what the scanner reads, the engine
// keeps what it does not know yet (with the commit that wrote it), applies it
// once, and dates it by that commit.
#include <gtest/gtest.h>

#include "daemon/engine/engine.hpp"
#include "daemon/state/group_state.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/writeup/markdown.hpp"
#include "receivers/alertmanager.hpp"
#include "tests/support/edits.hpp"
#include "tests/support/events.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::apply_edits;
using testing::at;
using testing::edit_by_hand;
using testing::FakeRepository;
using testing::occurrences;

class EngineEditsTest : public ::testing::Test {
 protected:
  EngineEditsTest() {
    config.routes = testing::api_routes().routes;
    repo.commit_time = at("2026-11-22T03:50:00Z");
    opened = engine.apply(testing::firing_event(1, "2026-11-22T03:50:00Z"));
    // Alone in Operations: the 4-hour rule applies to Ann.
    engine.apply(Event{2, at("2026-11-22T04:00:00Z"),
                       RoleRequest{opened.incident_id, "join", "Operations", "Ann Lee", "", {}}});
  }

  void set_key(const std::string& key, const std::string& value, const char* when) {
    edit_by_hand(
        repo, callout(),
        [&](const std::string& text) { return markdown::set_key(text, key, value); }, at(when));
  }
  std::string callout() const { return opened.folder + "/callout.md"; }
  // The one group's state, as committed.
  GroupState state() {
    return *parse_state(repo.file(testing::state_files(repo, repo.head()).front()));
  }

  Config config;
  FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  ApplyResult opened;
};

// The scenario of issue 14: resolved by hand, the callout is closed for the
// engine too (open incidents, shifts, the 4-hour rule), with one entry.
TEST_F(EngineEditsTest, ACalloutResolvedByHandIsClosedForTheEngine) {
  ASSERT_EQ(opened.outcome, Outcome::opened);
  ASSERT_EQ(engine.open_incidents().size(), 1u);
  set_key("Status", "resolved", "2026-11-22T05:00:00Z");
  auto applied = apply_edits(engine, repo, at("2026-11-22T05:30:00Z"));
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied.front().outcome, Outcome::updated);
  EXPECT_TRUE(engine.open_incidents().empty());
  // The shift ended at the commit's time, not when the daemon saw it.
  auto stats = engine.responder_stats(at("2026-11-22T05:30:00Z"));
  EXPECT_TRUE(stats.work_seconds.empty());
  EXPECT_TRUE(stats.on_shift_by_role.empty());
  auto shifts = ShiftBook::parse(repo.file(".calloutd/shifts.json"), std::chrono::minutes(15));
  ASSERT_NE(shifts.find("Ann Lee"), nullptr);
  EXPECT_EQ(shifts.find("Ann Lee")->holds, 0);
  EXPECT_EQ(shifts.find("Ann Lee")->idle_since, at("2026-11-22T05:00:00Z"));
  auto text = repo.file(callout());
  EXPECT_EQ(occurrences(text, "resolved in the file"), 1u) << text;
  EXPECT_NE(text.find("- 2026-11-22 05:00:00 UTC - callout.md - callout resolved in the file: "
                      "Status set to resolved by hand (commit "),
            std::string::npos)
      << text;
  // The postmortem gets the timeline, as for any resolution.
  EXPECT_NE(repo.file(opened.folder + "/postmortem.md").find("callout resolved in the file"),
            std::string::npos);

  // Hours later: no 4-hour notice in a resolved callout.
  auto commits = repo.commit_count();
  engine.check_work_limits(at("2026-11-22T09:00:00Z"));
  EXPECT_EQ(repo.commit_count(), commits);
  EXPECT_EQ(engine.responder_stats(at("2026-11-22T09:00:00Z")).over_limit, 0);
  // The same notification again (Alertmanager's repeat) does not reopen it.
  EXPECT_EQ(engine.apply(testing::firing_event(1, "2026-11-22T07:50:00Z")).outcome,
            Outcome::unchanged);
  // Rescans see nothing new: the daemon's own commit is not an edit.
  EXPECT_TRUE(apply_edits(engine, repo, at("2026-11-22T09:01:00Z")).empty());
  EXPECT_EQ(repo.commit_count(), commits);
}

TEST_F(EngineEditsTest, AnEditIsAppliedOnceWhoeverSeesIt) {
  set_key("Status", "resolved", "2026-11-22T05:00:00Z");
  Metrics metrics;
  Scanner scanner(repo, metrics, std::chrono::hours(24));
  scanner.scan(repo.head(), at("2026-11-22T05:01:00Z"));
  auto news = engine.news(scanner.observations());
  ASSERT_EQ(news.size(), 1u);
  EXPECT_EQ(news.front().field(), "callout.md Status");
  EXPECT_EQ(news.front().commit, repo.head());
  EXPECT_EQ(news.front().committed_at, at("2026-11-22T05:00:00Z"));
  Event edit{7, at("2026-11-22T05:01:00Z"), news.front()};
  EXPECT_EQ(engine.apply(edit).outcome, Outcome::updated);
  EXPECT_EQ(state().observed.at("callout.md Status"), news.front().commit);
  // Reopened by a new firing meanwhile, then the same journaled edit again (a
  // replay after a rebase, the other daemon of an HA pair): nothing.
  auto again = testing::firing_event(1, "2026-11-22T05:10:00Z");
  for (auto& a : std::get<AlertGroup>(again.payload).alerts) {
    a.starts_at = at("2026-11-22T05:05:00Z");
  }
  EXPECT_EQ(engine.apply(again).outcome, Outcome::reopened);
  auto commits = repo.commit_count();
  EXPECT_EQ(engine.apply(edit).outcome, Outcome::unchanged);
  // And so for a second engine reading the same repository.
  Engine other(config, repo, templates);
  other.load();
  EXPECT_EQ(other.apply(edit).outcome, Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), commits);
  EXPECT_EQ(occurrences(repo.file(callout()), "resolved in the file"), 1u);
}

TEST_F(EngineEditsTest, TheEditIsDatedByTheCommitThatWroteTheValue) {
  set_key("Status", "resolved", "2026-11-22T05:00:00Z");
  // A later commit changes something else in the file.
  set_key("Summary", "a rollback fixed it", "2026-11-22T05:20:00Z");
  auto applied = apply_edits(engine, repo, at("2026-11-22T05:30:00Z"));
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(state().resolved_at, at("2026-11-22T05:00:00Z"));
}

TEST_F(EngineEditsTest, AnEditTimeOutsideTheIncidentIsClamped) {
  // A commit dated before the callout opened (a wrong clock) ends the shift
  // no earlier than it began; one dated in the future counts as now.
  set_key("Status", "resolved", "2026-11-20T00:00:00Z");
  ASSERT_EQ(apply_edits(engine, repo, at("2026-11-22T05:30:00Z")).size(), 1u);
  EXPECT_EQ(state().resolved_at, state().opened_at);
  // Ann's shift began at 04:00: it ends then, not before.
  auto shifts = ShiftBook::parse(repo.file(".calloutd/shifts.json"), std::chrono::minutes(15));
  EXPECT_EQ(shifts.find("Ann Lee")->idle_since, at("2026-11-22T04:00:00Z"));

  set_key("Status", "active", "2026-11-23T00:00:00Z");
  ASSERT_EQ(apply_edits(engine, repo, at("2026-11-22T06:00:00Z")).size(), 1u);
  EXPECT_NE(repo.file(callout()).find("- 2026-11-22 06:00:00 UTC - callout.md - callout reopened "
                                      "in the file: Status set to active by hand"),
            std::string::npos)
      << repo.file(callout());
}

TEST_F(EngineEditsTest, ACalloutReopenedByHandIsOpenAgain) {
  set_key("Status", "resolved", "2026-11-22T05:00:00Z");
  ASSERT_EQ(apply_edits(engine, repo, at("2026-11-22T05:01:00Z")).size(), 1u);
  ASSERT_TRUE(engine.open_incidents().empty());
  set_key("Status", "active", "2026-11-22T05:40:00Z");
  auto applied = apply_edits(engine, repo, at("2026-11-22T05:41:00Z"));
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied.front().outcome, Outcome::reopened);
  ASSERT_EQ(engine.open_incidents().size(), 1u);
  EXPECT_EQ(occurrences(repo.file(callout()), "callout reopened in the file"), 1u);
  EXPECT_EQ(markdown::key_text(repo.file(callout()), "Status"), "active");
}

TEST_F(EngineEditsTest, ASeverityChangedByHandIsTheIncidentsSeverity) {
  ASSERT_EQ(engine.open_incidents().front().severity, "HPI");
  set_key("Severity", "MPI", "2026-11-22T04:30:00Z");
  ASSERT_EQ(apply_edits(engine, repo, at("2026-11-22T04:31:00Z")).size(), 1u);
  EXPECT_EQ(engine.open_incidents().front().severity, "MPI");
  EXPECT_NE(repo.file(callout()).find("- 2026-11-22 04:30:00 UTC - callout.md - Severity changed "
                                      "from HPI to MPI in the file (commit "),
            std::string::npos)
      << repo.file(callout());
  // A value that is no severity is not acted on (the lint reports it).
  set_key("Severity", "urgent", "2026-11-22T04:40:00Z");
  EXPECT_TRUE(apply_edits(engine, repo, at("2026-11-22T04:41:00Z")).empty());
  EXPECT_EQ(engine.open_incidents().front().severity, "MPI");
}

TEST_F(EngineEditsTest, APostmortemStatusChangedByHandIsRecordedOnce) {
  edit_by_hand(
      repo, opened.folder + "/postmortem.md",
      [](const std::string& text) { return markdown::set_key(text, "Status", "in review"); },
      at("2026-11-22T06:00:00Z"));
  ASSERT_EQ(apply_edits(engine, repo, at("2026-11-22T06:05:00Z")).size(), 1u);
  EXPECT_TRUE(apply_edits(engine, repo, at("2026-11-22T06:06:00Z")).empty());
  auto text = repo.file(callout());
  EXPECT_EQ(occurrences(text, "postmortem moved from draft to in review"), 1u) << text;
  EXPECT_NE(text.find("- 2026-11-22 06:00:00 UTC - Postmortem - postmortem moved"),
            std::string::npos)
      << text;
}

// A value the daemon wrote itself is never taken for an edit, even when its
// state says otherwise (acting on it would undo the daemon's own decision).
TEST_F(EngineEditsTest, WhatTheDaemonWroteIsNotAnEdit) {
  auto resolved = receivers::parse_alertmanager(testing::sample("am-0.25-firing-two-alerts.json"));
  ASSERT_TRUE(resolved);
  resolved->status = AlertStatus::resolved;
  for (auto& a : resolved->alerts) {
    a.status = AlertStatus::resolved;
    a.ends_at = at("2026-11-22T04:30:00Z");
  }
  ASSERT_EQ(engine.apply(Event{3, at("2026-11-22T04:31:00Z"), *resolved}).outcome,
            Outcome::updated);
  // The state and the file now disagree, without a person touching Status.
  auto before = repo.head();
  auto path = testing::state_files(repo, before).front();
  auto drifted = state();
  drifted.resolved = false;
  repo.commit_by_hand(path, serialize_state(drifted));
  engine.refresh(before, repo.head());
  ASSERT_EQ(engine.open_incidents().size(), 1u);
  EXPECT_TRUE(apply_edits(engine, repo, at("2026-11-22T04:32:00Z")).empty());
  EXPECT_EQ(occurrences(repo.file(callout()), "in the file"), 0u);
}

}  // namespace
}  // namespace calloutd
