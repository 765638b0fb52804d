// Maintenance against a real git repository made with the git command line:
// what it measures, when gc packs, that it starts only between the daemon's
// writes, the gc.log a failed detached gc leaves, and stop() ending a gc.
#include "daemon/git/maintenance.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using testing::run;
using testing::TempDir;

class MaintenanceTest : public ::testing::Test {
 protected:
  // A repository with `commits` commits of a new file each: 3 loose objects each.
  void make_repository(int commits) {
    std::string script = "set -e; git init -q '" + repo().string() + "'; cd '" + repo().string() +
                         "'; for i in $(seq 1 " + std::to_string(commits) +
                         "); do echo $i > f$i; git add f$i; "
                         "git -c user.name=t -c user.email=t@t commit -qm $i; done";
    int status = 0;
    auto out = run("(" + script + ") 2>&1", &status);
    ASSERT_EQ(status, 0) << out;
  }
  // git estimates the loose objects from objects/17: with gc.auto=1 it
  // packs once that folder holds 2. Commits of 100 new files until it does.
  void fill_objects_17() {
    make_repository(1);
    int status = 0;
    auto out = run("cd '" + repo().string() +
                       "' && i=0 && while [ $(ls .git/objects/17 2>/dev/null | wc -l) -lt 2 ]; do "
                       "for j in $(seq 1 100); do echo $i-$j > f$i-$j; done; git add -A; "
                       "git -c user.name=t -c user.email=t@t commit -qm $i; i=$((i+1)); done 2>&1",
                   &status);
    ASSERT_EQ(status, 0) << out;
  }
  fs::path repo() const { return dir.path() / "repo"; }
  // Runs maintenance with `config` until `n` rounds reported, then stops it.
  std::vector<MaintenanceReport> rounds(const MaintenanceConfig& config, std::size_t n) {
    Maintenance m(config, repo().string(), writing, [&](const MaintenanceReport& r) {
      std::lock_guard lock(mutex);
      reports.push_back(r);
    });
    m.start();
    testing::eventually(30, [&] {
      std::lock_guard lock(mutex);
      return reports.size() >= n;
    });
    m.stop();
    std::lock_guard lock(mutex);
    return reports;
  }

  TempDir dir;
  std::shared_mutex writing;
  std::mutex mutex;
  std::vector<MaintenanceReport> reports;
};

MaintenanceConfig config(std::size_t gc_auto) {
  MaintenanceConfig c;
  c.gc_auto = gc_auto;
  c.interval = std::chrono::seconds(1);
  return c;
}

TEST_F(MaintenanceTest, MeasuresLooseObjectsAndPacks) {
  make_repository(10);
  auto store = measure_objects(repo() / ".git" / "objects");
  EXPECT_EQ(store.loose_objects, 30u);  // a blob, a tree and a commit each
  EXPECT_EQ(store.packs, 0u);
  EXPECT_GT(store.size_bytes, 30u * 10);
}

TEST_F(MaintenanceTest, PacksPastTheThresholdAndNotBelow) {
  fill_objects_17();
  auto loose = measure_objects(repo() / ".git" / "objects").loose_objects;
  auto below = rounds(config(100000), 1);
  ASSERT_TRUE(below[0].outcome);
  EXPECT_EQ(*below[0].outcome, GcOutcome::not_needed);
  EXPECT_EQ(below[0].store.loose_objects, loose);
  reports.clear();
  auto packed = rounds(config(1), 1);
  ASSERT_TRUE(packed[0].outcome);
  EXPECT_EQ(*packed[0].outcome, GcOutcome::packed);
  EXPECT_EQ(packed[0].store.loose_objects, 0u);  // all reachable: all packed
  EXPECT_EQ(packed[0].store.packs, 1u);
  int status = 0;
  run("git -C '" + repo().string() + "' fsck --full --no-dangling 2>&1", &status);
  EXPECT_EQ(status, 0);
}

TEST_F(MaintenanceTest, GcWaitsUntilNoCommitOrPushIsInProgress) {
  make_repository(3);
  std::shared_lock commit_in_progress(writing);
  std::mutex times;
  std::optional<std::chrono::steady_clock::time_point> reported;
  Maintenance m(config(1), repo().string(), writing, [&](const MaintenanceReport&) {
    std::lock_guard lock(times);
    reported = reported.value_or(std::chrono::steady_clock::now());
  });
  m.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a commit that takes a while
  auto released = std::chrono::steady_clock::now();
  commit_in_progress.unlock();
  ASSERT_TRUE(testing::eventually(20, [&] {
    std::lock_guard lock(times);
    return reported.has_value();
  }));
  m.stop();
  EXPECT_GE(*reported, released);  // the first round waited for the commit
}

TEST_F(MaintenanceTest, ReportsTheGcLogAFailedDetachedGcLeftAndClearsItWhenItPacks) {
  fill_objects_17();
  testing::write_file(repo() / ".git" / "gc.log", "warning: There are too many unreachable\n");
  auto r = rounds(config(1), 1);
  ASSERT_GE(r.size(), 1u);
  EXPECT_TRUE(r[0].gc_log);
  ASSERT_TRUE(r[0].outcome);
  EXPECT_EQ(*r[0].outcome, GcOutcome::packed);           // the foreground gc ignores gc.log
  EXPECT_FALSE(fs::exists(repo() / ".git" / "gc.log"));  // and git removes it after the run
}

TEST_F(MaintenanceTest, StopEndsARunningGcAndItsChildren) {
  make_repository(3);
  // A "git" that hangs, first on PATH: stop() must not wait for it.
  fs::create_directories(dir.path() / "bin");
  testing::write_file(dir.path() / "bin" / "git", "#!/bin/sh\nsleep 61.25 &\nwait\n");
  fs::permissions(dir.path() / "bin" / "git", fs::perms::owner_all);
  std::string old_path = std::getenv("PATH");
  setenv("PATH", ((dir.path() / "bin").string() + ":" + old_path).c_str(), 1);
  std::atomic<int> rounds_done{0};
  Maintenance m(config(1), repo().string(), writing,
                [&](const MaintenanceReport& r) { rounds_done += r.outcome ? 1 : 0; });
  m.start();
  // The positive sign: the fake git's sleep runs.
  bool running = testing::eventually(
      10, [&] { return run("pgrep -f '^sleep 61.25$' >/dev/null && echo yes") == "yes\n"; });
  setenv("PATH", old_path.c_str(), 1);
  auto before = std::chrono::steady_clock::now();
  m.stop();
  EXPECT_TRUE(running);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_TRUE(testing::eventually(5, [&] { return run("pgrep -f '^sleep 61.25$'").empty(); }));
  EXPECT_EQ(rounds_done.load(), 0);  // a stopped gc counts as no run
}

TEST_F(MaintenanceTest, AFailedGcIsReportedAsFailed) {
  make_repository(3);
  fs::create_directories(dir.path() / "bin");
  testing::write_file(dir.path() / "bin" / "git",
                      "#!/bin/sh\necho 'fatal: out of space' >&2\nexit 128\n");
  fs::permissions(dir.path() / "bin" / "git", fs::perms::owner_all);
  std::string old_path = std::getenv("PATH");
  setenv("PATH", ((dir.path() / "bin").string() + ":" + old_path).c_str(), 1);
  auto r = rounds(config(1), 1);
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(r[0].outcome);
  EXPECT_EQ(*r[0].outcome, GcOutcome::failed);
  EXPECT_EQ(r[0].store.loose_objects, 9u);  // measured all the same
}

}  // namespace
}  // namespace calloutd
