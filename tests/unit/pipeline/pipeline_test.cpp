// The pipeline in process: a real journal in a temporary directory, a real
// engine over the in-memory repository, and the engine's strand driven by
// hand (io().poll()) instead of its thread.
#include "daemon/pipeline/pipeline.hpp"

#include <gtest/gtest.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "daemon/scanner/scanner.hpp"
#include "daemon/state/group_state.hpp"
#include "daemon/writeup/markdown.hpp"
#include "receivers/alertmanager.hpp"
#include "receivers/observation.hpp"
#include "tests/support/events.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::FakeRepository;

const std::string k_firing = "am-0.25-firing-two-alerts.json";
const std::string k_resolved = "am-0.25-resolved.json";

// The firing sample as another group would send it (another alert name).
std::string other_group(int i) {
  auto body = nlohmann::json::parse(testing::sample(k_firing));
  const std::string name = "Other" + std::to_string(i);
  body["groupLabels"]["alertname"] = name;
  body["commonLabels"]["alertname"] = name;
  body["groupKey"] = "{}:{alertname=\"" + name + "\"}";
  for (auto& alert : body["alerts"]) {
    alert["labels"]["alertname"] = name;
  }
  return body.dump();
}

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() { restart(); }

  // A new journal and pipeline over the same directory and repository: what
  // a restart of the daemon finds (the engine reads its state from the files).
  void restart() {
    pipeline.reset();
    journal.reset();
    metrics = std::make_unique<Metrics>();
    journal = std::make_unique<Journal>(dir.str());
    engine = std::make_unique<Engine>(config, repo, templates);
    engine->load();
    pipeline = std::make_unique<Pipeline>(*journal, *engine, *metrics, 100);
  }

  std::uint64_t submit_sample(const std::string& name) {
    return submit_body(testing::sample(name));
  }
  std::uint64_t submit_body(const std::string& body) {
    auto outcome = pipeline->submit("alertmanager", body, testing::alert_group(body));
    EXPECT_TRUE(std::holds_alternative<std::uint64_t>(outcome));
    return std::get<std::uint64_t>(outcome);
  }

  // The journal as it is on disk, read by another reader.
  std::vector<JournalRecord> journaled() {
    return parse_journal(testing::read_file(dir.path() / "journal.jsonl")).records;
  }

  // Runs the strand until the pipeline is not stuck any more (retries wait
  // 1 s, then 2 s...), at most `seconds`.
  bool run_until_unstuck(double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (pipeline->stuck() && std::chrono::steady_clock::now() < deadline) {
      pipeline->io().run_one_for(std::chrono::milliseconds(100));
    }
    return !pipeline->stuck();
  }

  double metric(const std::string& series) { return testing::metric(metrics->serialize(), series); }
  double held(const std::string& reason) {
    return metric("calloutd_events_held{reason=\"" + reason + "\"}");
  }
  // The samples' group with a state file of bad JSON, committed by someone.
  void break_samples_group() {
    repo.commit_by_hand(samples_state, "{\"group_id\": oops");
    restart();
  }
  bool committed(const std::string& body) {
    return parse_state(repo.file(state_path(group_id(testing::alert_group(body))))).has_value();
  }

  const std::string samples_state =
      state_path(group_id(testing::alert_group(testing::sample(k_firing))));

  testing::TempDir dir;
  Config config = testing::api_routes();
  FakeRepository repo;
  Templates templates = Templates::embedded();
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(PipelineTest, AnEventIsJournaledBeforeSubmitReturnsAndAppliedOnTheStrand) {
  auto seq = submit_sample(k_firing);
  EXPECT_EQ(seq, 1u);
  // Durable before anything was applied: the strand has not run yet.
  auto records = journaled();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].sequence, 1u);
  EXPECT_EQ(records[0].source, "alertmanager");
  EXPECT_EQ(records[0].body, testing::sample(k_firing));
  EXPECT_EQ(repo.commit_count(), 0u);
  EXPECT_EQ(journal->applied(), 0u);
  EXPECT_EQ(pipeline->pending(), 1u);

  pipeline->io().poll();
  EXPECT_EQ(repo.commit_count(), 1u);
  EXPECT_EQ(journal->applied(), 1u);
  EXPECT_EQ(pipeline->pending(), 0u);
  ASSERT_EQ(pipeline->open_incidents().size(), 1u);
  EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="opened"})"), 1);
}

TEST_F(PipelineTest, EventsAreAppliedInJournalOrder) {
  EXPECT_EQ(submit_sample(k_firing), 1u);
  EXPECT_EQ(submit_sample(k_resolved), 2u);
  pipeline->io().poll();
  // Resolved after firing closes the callout; the other way round, the
  // resolved notification would find nothing and the firing one would open it.
  EXPECT_TRUE(pipeline->open_incidents().empty());
  EXPECT_EQ(journal->applied(), 2u);
  auto folders = repo.list(repo.head(), "api");
  ASSERT_EQ(folders.size(), 1u);
  auto text = repo.file("api/" + folders[0] + "/callout.md");
  EXPECT_EQ(markdown::key_text(text, "Status"), "resolved");
}

TEST_F(PipelineTest, AFailedCommitIsHeldAndRetriedUntilItCommits) {
  repo.failing_commits = 2;
  submit_sample(k_firing);
  pipeline->io().poll();
  EXPECT_TRUE(pipeline->stuck());
  EXPECT_EQ(repo.commit_count(), 0u);
  EXPECT_EQ(journal->applied(), 0u);  // the applied mark stays before what failed
  EXPECT_EQ(pipeline->pending(), 1u);
  // An event arriving meanwhile waits behind the held one.
  submit_sample(k_resolved);
  pipeline->io().poll();
  EXPECT_EQ(repo.commit_count(), 0u);

  ASSERT_TRUE(run_until_unstuck(10));
  EXPECT_EQ(repo.failing_commits, 0);
  EXPECT_EQ(journal->applied(), 2u);
  EXPECT_EQ(pipeline->pending(), 0u);
  EXPECT_TRUE(pipeline->open_incidents().empty());
  EXPECT_GE(metric("calloutd_commit_retries_total"), 1);
}

TEST_F(PipelineTest, ARestartAppliesWhatWasNotAppliedAndNothingTwice) {
  submit_sample(k_firing);
  pipeline->io().poll();
  ASSERT_EQ(journal->applied(), 1u);
  ASSERT_EQ(repo.commit_count(), 1u);
  // Journaled (answered 2xx), then the daemon dies before applying it.
  submit_sample(k_resolved);
  ASSERT_EQ(journaled().size(), 2u);

  restart();
  pipeline->replay();
  EXPECT_EQ(journal->applied(), 2u);
  EXPECT_EQ(repo.commit_count(), 2u);
  EXPECT_TRUE(pipeline->open_incidents().empty());
  // Only the second event was applied again: the first was behind the mark.
  EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="updated"})"), 1);
  EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="unchanged"})"), 0);
  EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="opened"})"), 0);

  // A second restart finds nothing to apply.
  restart();
  pipeline->replay();
  EXPECT_EQ(repo.commit_count(), 2u);
  EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="unchanged"})"), 0);
}

TEST_F(PipelineTest, PeoplesEditsGoThroughTheSameJournal) {
  submit_sample(k_firing);
  pipeline->io().poll();
  ASSERT_EQ(pipeline->open_incidents().size(), 1u);
  auto path = pipeline->open_incidents()[0].folder + "/callout.md";
  repo.commit_time = testing::at("2026-11-22T05:00:00Z");
  repo.commit_by_hand(path, markdown::set_key(repo.file(path), "Status", "resolved"));

  Scanner scanner(repo, *metrics, std::chrono::hours(24));
  scanner.scan(repo.head(), testing::at("2026-11-22T05:01:00Z"));
  ASSERT_TRUE(pipeline->observe(scanner.observations()));
  // Journaled on the spot, applied by the strand like a webhook.
  auto records = journaled();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].source, receivers::k_observation_source);
  EXPECT_NE(records[1].body.find("resolved"), std::string::npos) << records[1].body;
  EXPECT_EQ(journal->applied(), 1u);

  pipeline->io().poll();
  EXPECT_EQ(journal->applied(), 2u);
  EXPECT_TRUE(pipeline->open_incidents().empty());
  // What the engine knows now is not news a second time.
  ASSERT_TRUE(pipeline->observe(scanner.observations()));
  EXPECT_EQ(journaled().size(), 2u);
}

// A group whose state file cannot be read holds its own events (in order,
// the later one behind the first) while another group's event commits; the
// applied mark stays before the held one. Repaired by someone's commit, the
// group's events are applied in order, by themselves.
TEST_F(PipelineTest, AGroupThatCannotBeReadIsHeldAloneAndReleasedWhenRepaired) {
  break_samples_group();
  EXPECT_EQ(submit_sample(k_firing), 1u);
  EXPECT_EQ(submit_body(other_group(1)), 2u);
  EXPECT_EQ(submit_sample(k_resolved), 3u);
  pipeline->io().poll();
  EXPECT_FALSE(pipeline->stuck());
  EXPECT_TRUE(committed(other_group(1)));
  auto held_groups = pipeline->held_groups();
  ASSERT_EQ(held_groups.size(), 1u);
  EXPECT_EQ(held_groups[0].reason, "state_unreadable");
  EXPECT_EQ(held_groups[0].events, 2u);
  EXPECT_EQ(held_groups[0].oldest_sequence, 1u);
  EXPECT_NE(held_groups[0].error.find(samples_state), std::string::npos) << held_groups[0].error;
  EXPECT_EQ(held("state_unreadable"), 2);
  EXPECT_EQ(journal->applied(), 0u);  // never past a held event
  EXPECT_EQ(pipeline->pending(), 2u);

  // Another group still commits while this one is held.
  submit_body(other_group(2));
  pipeline->io().poll();
  EXPECT_TRUE(committed(other_group(2)));
  EXPECT_EQ(journal->applied(), 0u);

  repo.remove_by_hand(samples_state);
  pipeline->branch_moved(repo.head());
  EXPECT_TRUE(pipeline->held_groups().empty());
  EXPECT_EQ(held("state_unreadable"), 0);
  EXPECT_EQ(journal->applied(), 4u);
  EXPECT_EQ(pipeline->pending(), 0u);
  // Firing then resolved, in journal order: the callout opened and resolved.
  auto state = parse_state(repo.file(samples_state));
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->resolved);
}

// Without anyone's commit, a held group is tried again with backoff (1 s
// first) and released once it reads again.
TEST_F(PipelineTest, AHeldGroupIsRetriedWithBackoff) {
  break_samples_group();
  submit_sample(k_firing);
  pipeline->io().poll();
  ASSERT_EQ(pipeline->held_groups().size(), 1u);
  repo.commit_by_hand(samples_state, "");  // emptied: still not a state
  const double retries = metric("calloutd_commit_retries_total");
  pipeline->io().run_one_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(metric("calloutd_commit_retries_total"), retries + 1);
  EXPECT_EQ(pipeline->held_groups().size(), 1u);
  repo.remove_by_hand(samples_state);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pipeline->held_groups().empty() && std::chrono::steady_clock::now() < deadline) {
    pipeline->io().run_one_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(pipeline->held_groups().empty());
  EXPECT_TRUE(committed(testing::sample(k_firing)));
}

// Held events are journaled, never dropped: a restart holds them again and
// applies nothing twice; the journal is never compacted past them.
TEST_F(PipelineTest, HeldEventsSurviveARestartAndCompaction) {
  break_samples_group();
  submit_sample(k_firing);
  submit_body(other_group(1));
  pipeline->io().poll();
  const auto commits = repo.commit_count();
  ASSERT_EQ(pipeline->held_groups().size(), 1u);

  pipeline.reset();
  journal.reset();
  journal = std::make_unique<Journal>(dir.str(), 1);  // compacts whenever all is applied
  engine = std::make_unique<Engine>(config, repo, templates);
  engine->load();
  metrics = std::make_unique<Metrics>();
  pipeline = std::make_unique<Pipeline>(*journal, *engine, *metrics, 100);
  pipeline->replay();
  EXPECT_EQ(repo.commit_count(), commits);
  // The other group's event, applied past the mark, is not applied again.
  EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="unchanged"})"), 0);
  EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="failed"})"), 1);
  ASSERT_EQ(pipeline->held_groups().size(), 1u);
  EXPECT_EQ(pipeline->held_groups()[0].oldest_sequence, 1u);
  EXPECT_EQ(pipeline->pending(), 1u);
  submit_body(other_group(2));
  pipeline->io().poll();
  EXPECT_TRUE(committed(other_group(2)));
  EXPECT_EQ(journal->applied(), 0u);
  EXPECT_EQ(journaled().front().sequence, 1u);  // not compacted away

  repo.remove_by_hand(samples_state);
  pipeline->branch_moved(repo.head());
  EXPECT_TRUE(pipeline->held_groups().empty());
  EXPECT_EQ(journal->applied(), 3u);
  EXPECT_TRUE(committed(testing::sample(k_firing)));
}

// A held group with more events than one retry applies (128): while the
// first ones are applied, the later ones are still held, so the applied mark
// stops before them (on the branch's first version it went past them, and a
// crash then would have lost them).
TEST_F(PipelineTest, AHeldGroupRetriedPartlyKeepsTheMarkBeforeItsOtherEvents) {
  break_samples_group();
  pipeline = std::make_unique<Pipeline>(*journal, *engine, *metrics, 1000);
  constexpr std::uint64_t k_events = 130;
  for (std::uint64_t i = 0; i < k_events; ++i) {
    submit_sample(i % 2 == 0 ? k_firing : k_resolved);
  }
  pipeline->io().poll();
  ASSERT_EQ(pipeline->held_groups().size(), 1u);
  EXPECT_EQ(pipeline->held_groups()[0].events, k_events);

  repo.remove_by_hand(samples_state);
  pipeline->branch_moved(repo.head());  // applies the first 128
  ASSERT_EQ(pipeline->held_groups().size(), 1u);
  EXPECT_EQ(pipeline->held_groups()[0].oldest_sequence, 129u);
  EXPECT_EQ(journal->applied(), 128u);
  EXPECT_EQ(testing::read_file(dir.path() / "held"), "130\n129\n130\n");

  pipeline->branch_moved("someone else's");
  EXPECT_TRUE(pipeline->held_groups().empty());
  EXPECT_EQ(journal->applied(), k_events);
  // Noted once more when released: nothing past the mark is held any more.
  EXPECT_EQ(testing::read_file(dir.path() / "held"), "130\n");
}

// Restarted twice while a group is held: the second start does not apply
// again the other group's event applied before the first (on the branch's
// first version the first start's held file forgot it).
TEST_F(PipelineTest, ASecondRestartWhileAGroupIsHeldAppliesNothingTwice) {
  break_samples_group();
  submit_sample(k_firing);
  submit_body(other_group(1));
  pipeline->io().poll();
  for (int start = 0; start < 2; ++start) {
    restart();
    pipeline->replay();
    EXPECT_EQ(metric(R"(calloutd_events_applied_total{outcome="unchanged"})"), 0) << start;
    ASSERT_EQ(pipeline->held_groups().size(), 1u);
  }
  EXPECT_EQ(testing::read_file(dir.path() / "held"), "2\n1\n");
}

// A commit that fails is everyone's: the whole pipeline holds, as before,
// even while a group is held for its own problem.
TEST_F(PipelineTest, AFailedCommitStillHoldsEveryGroup) {
  break_samples_group();
  submit_sample(k_firing);
  pipeline->io().poll();
  repo.failing_commits = 1;
  submit_body(other_group(1));
  pipeline->io().poll();
  EXPECT_TRUE(pipeline->stuck());
  EXPECT_FALSE(committed(other_group(1)));
  ASSERT_TRUE(run_until_unstuck(10));
  EXPECT_TRUE(committed(other_group(1)));
  EXPECT_EQ(pipeline->held_groups().size(), 1u);
  EXPECT_EQ(journal->applied(), 0u);
}

}  // namespace
}  // namespace calloutd
