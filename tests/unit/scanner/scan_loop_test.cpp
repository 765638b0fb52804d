// The scan loop in process, one step at a time: poke() queues a scan on the
// engine's strand and io().poll() runs it, with a real pipeline, journal and
// engine over the in-memory repository. What people change in the files
// reaches the journal once; the daemon's own commits never do.
#include <gtest/gtest.h>

#include "daemon/pipeline/pipeline.hpp"
#include "daemon/scanner/scanner.hpp"
#include "daemon/writeup/markdown.hpp"
#include "receivers/alertmanager.hpp"
#include "receivers/observation.hpp"
#include "tests/support/events.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;
using testing::FakeRepository;

class FixedClock final : public Clock {
 public:
  TimePoint now() const override { return at("2026-11-22T06:00:00Z"); }
};

class ScanLoopTest : public ::testing::Test {
 protected:
  ScanLoopTest() {
    // As the daemon wires them: each commit of the pipeline wakes the scan.
    pipeline.set_after_commit([this] { loop.poke(); });
    auto body = testing::sample("am-0.25-firing-two-alerts.json");
    pipeline.submit("alertmanager", body, testing::alert_group(body));
    pipeline.io().poll();
    EXPECT_EQ(pipeline.open_incidents().size(), 1u);
    if (!pipeline.open_incidents().empty()) {
      path = pipeline.open_incidents()[0].folder + "/callout.md";
    }
  }

  // One step of the loop: a scan, and whatever it sets off on the strand.
  void scan() {
    loop.poke();
    pipeline.io().poll();
  }

  std::vector<JournalRecord> observations() {
    std::vector<JournalRecord> out;
    for (auto& r : parse_journal(testing::read_file(dir.path() / "journal.jsonl")).records) {
      if (r.source == receivers::k_observation_source) {
        out.push_back(std::move(r));
      }
    }
    return out;
  }

  void set_status_by_hand(const std::string& status) {
    repo.commit_time = at("2026-11-22T05:00:00Z");
    repo.commit_by_hand(path, markdown::set_key(repo.file(path), "Status", status));
  }

  testing::TempDir dir;
  Config config = testing::api_routes();
  FakeRepository repo;
  Templates templates = Templates::embedded();
  Metrics metrics;
  Journal journal{dir.str()};
  Engine engine{config, repo, templates};
  Pipeline pipeline{journal, engine, metrics, 100};
  FixedClock clock;
  Scanner scanner{repo, metrics, std::chrono::hours(24)};
  ScanLoop loop{pipeline, scanner, repo, clock, std::chrono::milliseconds(1000)};
  std::string path;  // the callout the pipeline opened
};

TEST_F(ScanLoopTest, TheDaemonsOwnCommitYieldsNoObservation) {
  ASSERT_EQ(repo.commit_count(), 1u);  // the callout the pipeline committed
  scan();
  // The scan read the daemon's callout, and found nothing new in it.
  EXPECT_EQ(scanner.folders().size(), 1u);
  EXPECT_EQ(scanner.folders().begin()->second.callout.status, "active");
  EXPECT_TRUE(observations().empty());
  EXPECT_EQ(repo.commit_count(), 1u);
}

TEST_F(ScanLoopTest, APersonsStatusEditIsObservedOnce) {
  scan();
  ASSERT_TRUE(observations().empty());

  set_status_by_hand("resolved");
  scan();
  auto seen = observations();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].body.find(R"("resolved")"), std::string::npos) << seen[0].body;
  EXPECT_NE(seen[0].body.find(R"("Status")"), std::string::npos) << seen[0].body;
  // Applied on the strand: the engine closed the incident, and the daemon
  // committed its timeline entry (which the scan read again as its own).
  EXPECT_TRUE(pipeline.open_incidents().empty());
  EXPECT_EQ(journal.applied(), journal.last_sequence());
  auto commits = repo.commit_count();
  EXPECT_GT(commits, 2u);

  // Again, without a new commit: nothing more.
  scan();
  EXPECT_EQ(observations().size(), 1u);
  EXPECT_EQ(repo.commit_count(), commits);
}

}  // namespace
}  // namespace calloutd
