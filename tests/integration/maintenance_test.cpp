// Repository maintenance in the daemon binary: git gc --auto packs what
// thousands of alerts leave loose while alerts keep arriving, and a SIGKILL
// in the middle of a gc leaves a repository git finds clean and the daemon
// commits to again. Runs alone (RUN_SERIAL): git gc is heavy on 2 cores.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/text/slug.hpp"
#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::DaemonProcess;
using testing::git;
using testing::metric;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

// A firing notification for a group of its own, alert `name`.
std::string body(const std::string& name) {
  json b = json::parse(testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
  for (auto& a : b["alerts"]) {
    a["labels"]["alertname"] = name;
  }
  b["groupLabels"]["alertname"] = name;
  b["commonLabels"]["alertname"] = name;
  b["groupKey"] = "{}/{team=\"db\"}:{alertname=\"" + name + "\", cluster=\"eu-1\"}";
  return b.dump();
}

std::string folder(const std::string& name) {
  return "unclassified/" + kebab_slug(name) + "-2026-11-22";
}

// `git count-objects -v`'s value of `key` (count: loose objects).
long count_objects(const fs::path& repo, const std::string& key) {
  std::istringstream lines(git(repo, "count-objects -v"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + ": ", 0) == 0) {
      return std::stol(line.substr(key.size() + 2));
    }
  }
  return -1;
}

// Processes whose working directory is `repo`: the daemon's git and the
// repack it started (which outlives a killed gc), or none.
int processes_in(const fs::path& repo) {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::error_code link_ec;
    auto cwd = fs::read_symlink(entry.path() / "cwd", link_ec);
    n += !link_ec && cwd == fs::canonical(repo) ? 1 : 0;
  }
  return n;
}

// The log's warnings and errors.
std::string problems(const std::string& log) {
  std::istringstream lines(log);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("level=warn") != std::string::npos ||
        line.find("level=error") != std::string::npos) {
      out += line + "\n";
    }
  }
  return out;
}

class MaintenanceTest : public ::testing::Test {
 protected:
  // git fsck --full's complaints, "" when clean (objects a killed commit
  // left unreachable are no complaint: gc prunes them after two weeks).
  std::string fsck() {
    int status = 0;
    auto out = git(repo(), "fsck --full --no-dangling --no-progress", &status);
    return status == 0 ? out : "exit status " + std::to_string(status) + ": " + out;
  }
  std::unique_ptr<DaemonProcess> start(int gc_auto) {
    write_file(dir.path() / "calloutd.yml",
               "repository:\n  path: callouts\n  maintenance:\n"
               "    gc_auto: " +
                   std::to_string(gc_auto) +
                   "\n    interval: 1s\n"
                   "    size_limit_bytes: 1000000000\n");
    return std::make_unique<DaemonProcess>(dir.path(),
                                           std::vector<std::string>{"--config.file=calloutd.yml"});
  }
  fs::path repo() const { return dir.path() / "callouts"; }
  // Posts groups `prefix`0... from one thread until `stop` or `n` of them;
  // the indexes answered 200 go into `acknowledged`.
  void post(DaemonProcess& d, const std::string& prefix, int n, std::set<int>& acknowledged,
            const std::atomic<bool>& stop) {
    auto client = d.client();
    for (int i = 0; i < n && !stop; ++i) {
      auto r = client->Post("/api/v1/alertmanager", body(prefix + std::to_string(i)),
                            "application/json");
      if (r && r->status == 200) {
        std::lock_guard lock(m_mutex);
        acknowledged.insert(i);
      }
    }
  }
  // Every acknowledged group of `prefix` has its callout on the branch.
  bool all_committed(const std::string& prefix, const std::set<int>& acknowledged) {
    std::set<std::string> present;
    std::istringstream lines(git(repo(), "ls-tree -d --name-only main unclassified/"));
    for (std::string line; std::getline(lines, line);) {
      present.insert(line);
    }
    return std::all_of(acknowledged.begin(), acknowledged.end(),
                       [&](int i) { return present.contains(folder(prefix + std::to_string(i))); });
  }
  // Every callout.md on the branch is a blob git can read.
  void expect_callouts_readable(std::size_t at_least) {
    // No git of the daemon's still at work (fsck would see objects move).
    ASSERT_TRUE(testing::eventually(30, [&] { return processes_in(repo()) == 0; }));
    auto blobs = git(repo(),
                     "ls-tree -r main | grep '/callout.md$' | awk '{print $3}' | "
                     "git -C '" +
                         repo().string() + "' cat-file --batch-check | grep -c ' blob '");
    EXPECT_GE(std::stoul(blobs), at_least);
    EXPECT_EQ(fsck(), "");
  }
  double metrics_of(DaemonProcess& d, const std::string& series) {
    auto r = d.client()->Get("/metrics");
    return r ? metric(r->body, series) : -1;
  }

  TempDir dir;
  std::mutex m_mutex;
};

TEST_F(MaintenanceTest, LooseObjectsComeBackUnderTheThresholdAndNoAlertIsLost) {
  constexpr int k_gc_auto = 800;
  constexpr int k_groups = 1200;  // about 9 objects each: 10,800 loose without gc
  auto d = start(k_gc_auto);
  std::set<int> acknowledged;
  std::atomic<bool> stop{false};
  std::thread poster([&] { post(*d, "Gc", k_groups, acknowledged, stop); });
  // gc packs while the alerts keep arriving.
  bool packed_meanwhile = testing::eventually(60, [&] {
    return metrics_of(*d, "calloutd_repository_maintenance_runs_total{outcome=\"packed\"}") >= 1;
  });
  poster.join();
  ASSERT_TRUE(packed_meanwhile) << d->log();
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(k_groups));
  ASSERT_TRUE(testing::all_applied(repo() / ".git" / "calloutd", 60)) << d->log();
  // git estimates from objects/17 (1/256 of them) and packs once it holds
  // more than 4 (gc.auto 800): below that count, up to about 5 times the
  // threshold can be loose (Poisson, p < 1e-4). More are packed than loose.
  ASSERT_TRUE(testing::eventually(30, [&] {
    return count_objects(repo(), "count") < 5 * k_gc_auto &&
           count_objects(repo(), "in-pack") > count_objects(repo(), "count");
  })) << git(repo(), "count-objects -v");
  EXPECT_TRUE(all_committed("Gc", acknowledged));
  // What the metrics show agrees with git.
  ASSERT_TRUE(testing::eventually(5, [&] {
    return metrics_of(*d, "calloutd_repository_loose_objects") < 5 * k_gc_auto &&
           metrics_of(*d, "calloutd_repository_packs") >= 1;
  }));
  EXPECT_GT(metrics_of(*d, "calloutd_repository_size_bytes"), 0);
  EXPECT_EQ(metrics_of(*d, "calloutd_repository_size_limit_bytes"), 1e9);
  EXPECT_GT(metrics_of(*d, "calloutd_repository_maintenance_last_run_timestamp_seconds"), 0);
  EXPECT_EQ(metrics_of(*d, "calloutd_repository_maintenance_runs_total{outcome=\"failed\"}"), 0);
  // gc beside the daemon's commits made none of them fail.
  EXPECT_EQ(metrics_of(*d, "calloutd_commit_retries_total"), 0) << problems(d->log());
  EXPECT_NE(d->log().find("packed the repository"), std::string::npos);
  // fsck beside a running gc sees loose objects vanish into packs: stopped first.
  d.reset();
  expect_callouts_readable(k_groups);
}

TEST_F(MaintenanceTest, SigkillDuringGcLeavesARepositoryTheDaemonCommitsToAgain) {
  // Loose objects made with gc off, so that the next start has a real gc to do.
  std::set<int> before;
  {
    auto d = start(0);
    std::atomic<bool> stop{false};
    post(*d, "Before", 800, before, stop);
    ASSERT_TRUE(testing::all_applied(repo() / ".git" / "calloutd", 60)) << d->log();
  }
  ASSERT_GT(count_objects(repo(), "count"), 2000);
  std::set<int> during;
  {
    auto d = start(100);
    std::atomic<bool> stop{false};
    std::thread poster([&] { post(*d, "During", 100000, during, stop); });
    // The positive sign: git gc holds its lock (gc.pid), so it is packing,
    // while alerts are being acknowledged.
    bool running = testing::eventually(30, [&] {
      std::lock_guard lock(m_mutex);
      return fs::exists(repo() / ".git" / "gc.pid") && during.size() >= 5;
    });
    d->process().kill(SIGKILL);
    stop = true;
    poster.join();
    d->process().wait(5);
    ASSERT_TRUE(running) << d->log();
  }
  // The gc died with the daemon; a repack it had started finishes on its own.
  ASSERT_TRUE(testing::eventually(30, [&] { return processes_in(repo()) == 0; }));
  EXPECT_EQ(fsck(), "");
  auto d = start(100);
  std::set<int> after;
  std::atomic<bool> stop{false};
  post(*d, "After", 1, after, stop);
  ASSERT_EQ(after.size(), 1u);
  // The daemon commits again, and what the journal held is applied on restart.
  ASSERT_TRUE(testing::eventually(30, [&] {
    return all_committed("After", after) && all_committed("During", during);
  })) << d->log();
  EXPECT_TRUE(all_committed("Before", before));
  EXPECT_TRUE(all_committed("During", during)) << during.size() << " acknowledged";
  std::printf("SIGKILL during gc: %zu alerts acknowledged while it ran\n", during.size());
  d.reset();
  expect_callouts_readable(before.size() + during.size() + 1);
}

}  // namespace
}  // namespace calloutd
