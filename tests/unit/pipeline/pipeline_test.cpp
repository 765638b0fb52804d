// The pipeline in process: a real journal in a temporary directory, a real
// engine over the in-memory repository, and the engine's strand driven by
// hand (io().poll()) instead of its thread.
#include "daemon/pipeline/pipeline.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "daemon/scanner/scanner.hpp"
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
    auto body = testing::sample(name);
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

}  // namespace
}  // namespace calloutd
