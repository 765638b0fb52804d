// A burst of webhooks, SIGKILL in the middle of it, a restart: every alert the
// daemon acknowledged is in the repository exactly once.
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

using nlohmann::json;
using testing::DaemonProcess;
using testing::git;
using testing::TempDir;

constexpr int k_groups = 240;
constexpr int k_clients = 4;

std::string body_for(int i) {
  json body = json::parse(testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
  std::string name = "KillTest" + std::to_string(i);
  for (auto& a : body["alerts"]) {
    a["labels"]["alertname"] = name;
  }
  body["groupLabels"]["alertname"] = name;
  body["commonLabels"]["alertname"] = name;
  body["groupKey"] = "{}/{team=\"db\"}:{alertname=\"" + name + "\", cluster=\"eu-1\"}";
  return body.dump();
}

// Folder names under unclassified/ on main.
std::multiset<std::string> folders(const std::filesystem::path& repo) {
  std::multiset<std::string> out;
  std::stringstream ss(git(repo, "ls-tree -d --name-only main unclassified/"));
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) {
      out.insert(line.substr(std::string("unclassified/").size()));
    }
  }
  return out;
}

std::string folder_for(int i) {
  return kebab_slug("KillTest" + std::to_string(i)) + "-2026-11-22";
}

TEST(KillTest, AcknowledgedAlertsSurviveSigkillExactlyOnce) {
  TempDir dir;
  auto repo = dir.path() / "callouts";
  std::set<int> acknowledged;
  std::mutex mutex;
  {
    DaemonProcess d(dir.path(), {"--repo.path=callouts"});
    std::atomic<int> next{0};
    std::atomic<bool> killed{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < k_clients; ++c) {
      clients.emplace_back([&] {
        auto client = d.client();
        for (int i = next++; i < k_groups && !killed; i = next++) {
          auto r = client->Post("/api/v1/alertmanager", body_for(i), "application/json");
          if (r && r->status == 200) {
            std::lock_guard lock(mutex);
            acknowledged.insert(i);
          }
        }
      });
    }
    // SIGKILL once a good part of the burst is acknowledged, while it goes on.
    testing::eventually(30, [&] {
      std::lock_guard lock(mutex);
      return acknowledged.size() >= k_groups / 3;
    });
    d.process().kill(SIGKILL);
    killed = true;
    for (auto& t : clients) {
      t.join();
    }
    d.process().wait(5);
  }
  std::printf(
      "kill -9: %zu of %d webhooks acknowledged before SIGKILL; %zu callouts committed at that "
      "moment\n",
      acknowledged.size(), k_groups, folders(repo).size());
  ASSERT_GE(acknowledged.size(), static_cast<std::size_t>(k_groups / 3));
  ASSERT_LT(acknowledged.size(), static_cast<std::size_t>(k_groups))
      << "the kill came too late to test anything";

  // Restart: the journal replays what was acknowledged but not yet committed.
  DaemonProcess d(dir.path(), {"--repo.path=callouts"});
  ASSERT_TRUE(testing::eventually(60, [&] {
    auto present = folders(repo);
    for (int i : acknowledged) {
      if (!present.contains(folder_for(i))) {
        return false;
      }
    }
    return true;
  })) << d.log();
  // Alertmanager then retries what was not acknowledged (and repeats some that were).
  auto client = d.client();
  for (int i = 0; i < k_groups; ++i) {
    ASSERT_EQ(client->Post("/api/v1/alertmanager", body_for(i), "application/json")->status, 200);
  }
  ASSERT_TRUE(testing::eventually(
      60, [&] { return folders(repo).size() >= static_cast<std::size_t>(k_groups); }));
  // Every journaled event applied: a second copy would be there by now.
  ASSERT_TRUE(testing::all_applied(repo / ".git" / "calloutd", 60));
  auto present = folders(repo);
  EXPECT_EQ(present.size(), static_cast<std::size_t>(k_groups));
  for (int i = 0; i < k_groups; ++i) {
    EXPECT_EQ(present.count(folder_for(i)), 1u) << folder_for(i);
  }
  // Events are committed in batches; no commit is empty, none opens a callout twice.
  auto commits = git(repo, "rev-list --count main");
  auto with_changes = git(repo, "log --format=%H --shortstat main | grep -c 'changed'");
  EXPECT_EQ(with_changes, commits);
  auto opened = git(repo, "log --format=%B main | grep -c ': opened (MPI)'");
  EXPECT_EQ(opened, std::to_string(k_groups) + "\n");
  EXPECT_EQ(git(repo, "fsck --no-progress --no-dangling 2>&1"), "");
}

}  // namespace
}  // namespace calloutd
