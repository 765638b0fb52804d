// A symlink that an engineer (or anyone who can push to the remote the daemon
// follows) committed into the callouts repository: the daemon binary answers
// the webhook, writes the callout under a safe folder in a commit, writes
// nothing where the symlink points, and leaves the symlink as committed.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using testing::DaemonProcess;
using testing::git;
using testing::metric;
using testing::sample;
using testing::TempDir;
using testing::write_file;

constexpr const char* k_config = R"(
repository:
  path: callouts
receivers:
  alertmanager:
    bearer_token_file: token
routes:
  - matchers: ['severity="warning"', 'service="api"']
    severity: HPI
    technology: api
)";

// The folder the sample's group opens (technology api, alert name, first startsAt).
constexpr const char* k_folder = "api/high-request-latency-2026-11-22";

class SymlinkTest : public ::testing::Test {
 protected:
  SymlinkTest() {
    write_file(dir.path() / "calloutd.yml", k_config);
    write_file(dir.path() / "token", "example-bearer-token\n");
  }
  std::filesystem::path repo() const { return dir.path() / "callouts"; }

  // An engineer's repository whose `name` is a symlink to the outside directory.
  void commit_symlink(const std::string& name) {
    int status = 0;
    testing::run("git init -q -b main " + repo().string(), &status);
    ASSERT_EQ(status, 0);
    write_file(repo() / "README.md", "# Callouts\n");
    std::filesystem::create_directories((repo() / name).parent_path());
    std::filesystem::create_symlink(outside.path(), repo() / name);
    git(repo(), "add -A", &status);
    ASSERT_EQ(status, 0);
    git(repo(), "-c user.name=Eng -c user.email=e@example.com commit -qm 'link'", &status);
    ASSERT_EQ(status, 0);
    link_entry = git(repo(), "ls-tree main " + name);
    ASSERT_EQ(link_entry.substr(0, 6), "120000") << link_entry;
  }
  std::unique_ptr<DaemonProcess> start() {
    return std::make_unique<DaemonProcess>(dir.path(),
                                           std::vector<std::string>{"--config.file=calloutd.yml"});
  }
  int commits() const {
    int status = 0;
    auto out = git(repo(), "rev-list --count main", &status);
    return status == 0 ? std::stoi(out) : 0;
  }
  bool commits_reach(int n) const {
    return testing::eventually(10, [&] { return commits() >= n; });
  }
  // Posts the sample that opens k_folder's group and waits for its commit.
  void open_callout(DaemonProcess& d, int commits_after) {
    auto r = d.post_alertmanager(sample("am-0.25-firing-two-alerts.json"), bearer);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    ASSERT_TRUE(commits_reach(commits_after));
  }
  // Nothing was written where the symlink points, and it is committed unchanged.
  void expect_symlink_untouched(const std::string& name) {
    EXPECT_TRUE(std::filesystem::is_empty(outside.path()));
    EXPECT_EQ(git(repo(), "ls-tree main " + name), link_entry);
    EXPECT_TRUE(std::filesystem::is_symlink(repo() / name));
  }

  // A warning that names the refused path.
  static bool logged_unsafe(const DaemonProcess& d, const std::string& path) {
    std::istringstream lines(d.log());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("level=warn") != std::string::npos &&
          (line + " ").find(" path=" + path + " ") != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  const httplib::Headers bearer{{"Authorization", "Bearer example-bearer-token"}};
  TempDir dir;
  TempDir outside;
  std::string link_entry;
};

TEST_F(SymlinkTest, SymlinkedTechnologyFolderGetsASafeFolder) {
  commit_symlink("api");
  auto d = start();
  open_callout(*d, 2);
  const std::string safe = "api-calloutd/high-request-latency-2026-11-22";
  EXPECT_EQ(git(repo(), "log --format=%s -1 main"), safe + ": opened (HPI)\n");
  EXPECT_NE(git(repo(), "show main:" + safe + "/callout.md").find("CALLOUT"), std::string::npos);
  EXPECT_NE(git(repo(), "show main:" + safe + "/postmortem.md").find("POSTMORTEM"),
            std::string::npos);
  expect_symlink_untouched("api");
  EXPECT_TRUE(std::filesystem::exists(repo() / safe / "callout.md"));
  EXPECT_TRUE(logged_unsafe(*d, "api")) << d->log();
  EXPECT_EQ(metric(d->client()->Get("/metrics")->body, "calloutd_unsafe_paths_total"), 1);
  // The group's next notification goes to the same folder, not a second callout.
  auto r = d->post_alertmanager(sample("am-0.25-firing-group-one-alert-resolved.json"), bearer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(commits_reach(3));
  EXPECT_EQ(git(repo(), "log --format=%s -1 main"), safe + ": 1 timeline entry\n");
  expect_symlink_untouched("api");
}

TEST_F(SymlinkTest, SymlinkedIncidentFolderGetsTheNextName) {
  commit_symlink(k_folder);
  auto d = start();
  open_callout(*d, 2);
  const std::string safe = std::string(k_folder) + "-2";
  EXPECT_EQ(git(repo(), "log --format=%s -1 main"), safe + ": opened (HPI)\n");
  EXPECT_NE(git(repo(), "show main:" + safe + "/callout.md").find("CALLOUT"), std::string::npos);
  expect_symlink_untouched(k_folder);
  EXPECT_TRUE(logged_unsafe(*d, k_folder)) << d->log();
  EXPECT_EQ(metric(d->client()->Get("/metrics")->body, "calloutd_unsafe_paths_total"), 1);
}

// The sample as a group of its own, named `alertname`.
std::string group(const std::string& alertname) {
  auto body = nlohmann::json::parse(sample("am-0.25-firing-two-alerts.json"));
  body["groupKey"] = "{}:{alertname=\"" + alertname + "\"}";
  body["groupLabels"]["alertname"] = alertname;
  body["commonLabels"]["alertname"] = alertname;
  for (auto& a : body["alerts"]) {
    a["labels"]["alertname"] = alertname;
  }
  return body.dump();
}

// Issue 26: a commit that made .calloutd a symlink, or .calloutd/groups a
// file, stopped every callout (200 alerts answered 200, none committed,
// /-/ready 503 until someone repaired the repository by hand). .calloutd/ is
// the daemon's: its next commit replaces the entry by its own folder, with
// every state it holds, and says so in the log and the commit message.
TEST_F(SymlinkTest, ASymlinkOrAFileInPlaceOfTheDaemonsFolderIsReplacedByIt) {
  for (const std::string& in_the_way :
       {std::string(".calloutd"), std::string(".calloutd/groups")}) {
    SCOPED_TRACE(in_the_way);
    TempDir run;
    write_file(run.path() / "calloutd.yml", k_config);
    write_file(run.path() / "token", "example-bearer-token\n");
    const auto clone = run.path() / "callouts";
    DaemonProcess d(run.path(), {"--config.file=calloutd.yml"});
    ASSERT_EQ(d.post_alertmanager(group("Before"), bearer)->status, 200);
    ASSERT_TRUE(testing::eventually(10, [&] {
      return git(clone, "ls-tree -r --name-only main").find(".calloutd/groups/") !=
             std::string::npos;
    })) << d.log();
    // An engineer's commit in the daemon's clone puts a symlink or a file there.
    int status = 0;
    git(clone, "rm -rq " + in_the_way, &status);
    ASSERT_EQ(status, 0);
    std::filesystem::remove_all(clone / in_the_way);
    if (in_the_way == ".calloutd") {
      std::filesystem::create_symlink(outside.path(), clone / in_the_way);
    } else {
      write_file(clone / in_the_way, "not a folder\n");
    }
    git(clone, "add -A", &status);
    git(clone, "-c user.name=Eng -c user.email=e@example.com commit -qm 'tidy up'", &status);
    ASSERT_EQ(status, 0);

    constexpr int k_alerts = 20;
    for (int i = 0; i < k_alerts; ++i) {
      auto r = d.post_alertmanager(group("After" + std::to_string(i)), bearer);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
    }
    ASSERT_TRUE(testing::eventually(20, [&] {
      return testing::occurrences(git(clone, "ls-tree -r --name-only main -- api"),
                                  "/callout.md") == k_alerts + 1;
    })) << d.log();
    auto tree = git(clone, "ls-tree -r main -- .calloutd");
    EXPECT_EQ(tree.find("120000"), std::string::npos) << tree;
    EXPECT_EQ(testing::occurrences(tree, ".calloutd/groups/"), k_alerts + 1u)
        << "every group's state is in the daemon's folder again: " << tree;
    EXPECT_NE(git(clone, "log --format=%B main").find("replaced by calloutd's own folder"),
              std::string::npos);
    EXPECT_NE(d.log().find("replaced=" + in_the_way), std::string::npos) << d.log();
    auto ready = d.client()->Get("/-/ready");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200);
    EXPECT_TRUE(std::filesystem::is_empty(outside.path()));
  }
}

}  // namespace
}  // namespace calloutd
