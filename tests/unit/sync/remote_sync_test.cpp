// The sync thread in process: a real pipeline (its own thread), a libgit2
// repository, and a bare repository on disk as the team's remote. What the
// daemon commits reaches the remote; when an engineer pushed meanwhile, the
// daemon's events are applied again on top of the engineer's commit and
// nothing of either is lost.
#include "daemon/sync/remote_sync.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "tests/support/events.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string k_firing = "am-0.25-firing-two-alerts.json";
const std::string k_resolved = "am-0.25-resolved.json";

std::string git(const fs::path& dir, const std::string& args) {
  return testing::run("git -C '" + dir.string() + "' " + args + " 2>&1");
}

class RemoteSyncTest : public ::testing::Test {
 protected:
  RemoteSyncTest() {
    testing::run("git init -q --bare -b main '" + bare.string() + "'");
    config.repo_path = (dir.path() / "callouts").string();
    config.remote.url = bare.string();
    config.remote.transport = RemoteConfig::Transport::local;
    config.remote.fetch_interval = 1s;
    config.remote.max_retry_delay = 1s;
    repository = std::make_unique<GitRepository>(GitRepository::Options{.path = config.repo_path});
    journal = std::make_unique<Journal>((dir.path() / "journal").string());
    engine = std::make_unique<Engine>(config, *repository, templates);
    engine->load();
    pipeline = std::make_unique<Pipeline>(*journal, *engine, metrics, 100);
    sync = std::make_unique<RemoteSync>(config, *repository, *engine, *journal, *pipeline, metrics);
    pipeline->set_after_commit([this] { sync->poke(); });
    // In the daemon's order: the pipeline, then the sync thread.
    pipeline->start();
    sync->start();
  }

  ~RemoteSyncTest() override {
    sync->stop();
    pipeline->stop();
    sync->final_push();
  }

  void submit(const std::string& name) {
    auto body = testing::sample(name);
    auto outcome = pipeline->submit("alertmanager", body, testing::alert_group(body));
    ASSERT_TRUE(std::holds_alternative<std::uint64_t>(outcome));
  }

  std::string remote_head() { return git(bare, "rev-parse -q --verify main"); }
  std::string local_head() {
    return pipeline->on_strand([this] { return repository->head(); });
  }
  // Waits up to 30 s for `done`.
  template <typename Done>
  bool eventually(Done done) {
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
      if (done()) {
        return true;
      }
    }
    return done();
  }
  // The callout the samples open, as the remote has it ("" while it has none).
  std::string remote_callout() {
    auto folder = git(bare, "ls-tree -d --name-only main api/");
    if (folder.empty() || folder.find("fatal") != std::string::npos) {
      return "";
    }
    folder.erase(folder.find('\n'));
    return git(bare, "show main:" + folder + "/callout.md");
  }

  testing::TempDir dir;
  fs::path bare = dir.path() / "remote.git";
  Config config = testing::api_routes();
  Templates templates = Templates::embedded();
  Metrics metrics;
  std::unique_ptr<GitRepository> repository;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<RemoteSync> sync;
};

TEST_F(RemoteSyncTest, WhatTheDaemonCommitsReachesTheRemote) {
  submit(k_firing);
  ASSERT_TRUE(eventually([&] {
    return remote_callout().find("## Status\n\nactive") != std::string::npos;
  })) << remote_callout();
  EXPECT_TRUE(eventually([&] { return remote_head() == local_head() + "\n"; }));
  EXPECT_EQ(git(bare, "log -1 --format=%s main").find("api/"), 0u) << git(bare, "log -1 main");
}

TEST_F(RemoteSyncTest, AnEngineersPushMeanwhileIsKeptAndTheDaemonsEventsGoOnTop) {
  submit(k_firing);
  ASSERT_TRUE(eventually([&] { return !remote_callout().empty(); }));

  // An engineer pushes a commit of their own; the daemon does not know yet.
  auto clone = dir.path() / "engineer";
  testing::run("git clone -q '" + bare.string() + "' '" + clone.string() + "' 2>&1");
  testing::write_file(clone / "notes.md", "# Notes\n");
  git(clone, "add notes.md");
  git(clone, "-c user.name=Engineer -c user.email=engineer@example.invalid commit -q -m notes");
  git(clone, "push -q origin main");
  auto engineers = git(clone, "rev-parse HEAD");

  // The group resolves: the daemon's push is refused (the remote moved), so
  // it fetches, puts its branch on the engineer's commit, applies the event
  // again there and pushes.
  submit(k_resolved);
  ASSERT_TRUE(eventually([&] {
    return remote_callout().find("## Status\n\nresolved") != std::string::npos;
  })) << remote_callout();
  EXPECT_EQ(git(bare, "show main:notes.md"), "# Notes\n");
  EXPECT_EQ(git(bare, "merge-base --is-ancestor " + engineers.substr(0, 40) + " main && echo yes"),
            "yes\n");
  EXPECT_TRUE(eventually([&] { return remote_head() == local_head() + "\n"; }));
}

}  // namespace
}  // namespace calloutd
