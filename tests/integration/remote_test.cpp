// The callouts repository on a real remote: a bare repository served by
// OpenSSH's sshd (key authentication) or by git's smart HTTP behind a server
// demanding a token, both on 127.0.0.1. Engineers use the git command line;
// what the remote holds is read back with it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/base/timefmt.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/markdown.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/git_servers.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::DaemonProcess;
using testing::git;
using testing::HttpGitServer;
using testing::metric;
using testing::read_file;
using testing::SshGitServer;
using testing::TempDir;
using testing::write_file;

constexpr const char* k_token = "s3cr3t-token-value-0123456789";

// A notification for group `name` (the 0.34 sample with its alert renamed);
// resolved ten minutes after it started when `resolved`.
std::string body(const std::string& name, bool resolved = false) {
  json b = json::parse(testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
  for (auto& a : b["alerts"]) {
    a["labels"]["alertname"] = name;
    if (resolved) {
      a["status"] = "resolved";
      a["endsAt"] = "2026-11-22T03:56:06.406Z";
    }
  }
  b["status"] = resolved ? "resolved" : "firing";
  b["groupLabels"]["alertname"] = name;
  b["commonLabels"]["alertname"] = name;
  b["groupKey"] = "{}/{team=\"db\"}:{alertname=\"" + name + "\", cluster=\"eu-1\"}";
  return b.dump();
}

std::string folder(const std::string& name) {
  return "unclassified/" + kebab_slug(name) + "-2026-11-22";
}

// What the remote's branch holds.
std::string remote_file(const fs::path& bare, const std::string& path) {
  return git(bare, "show main:" + path);
}
std::multiset<std::string> remote_folders(const fs::path& bare) {
  std::multiset<std::string> out;
  std::stringstream ss(git(bare, "ls-tree -d --name-only main unclassified/"));
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) {
      out.insert(line);
    }
  }
  return out;
}
int count_lines(const std::string& text, const std::string& needle) {
  int n = 0;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    n += line.find(needle) != std::string::npos ? 1 : 0;
  }
  return n;
}

class RemoteTest : public ::testing::Test {
 protected:
  // A daemon whose repository is `name` (under the test's directory) with
  // `remote` as its repository.remote section (YAML lines, indented 4).
  std::unique_ptr<DaemonProcess> start(const std::string& name, const std::string& remote) {
    auto config = dir.path() / (name + ".yml");
    write_file(config, "repository:\n  path: " + name + "\n  remote:\n" + remote);
    return std::make_unique<DaemonProcess>(
        dir.path(), std::vector<std::string>{"--config.file=" + config.string()});
  }
  static std::string ssh_remote(const SshGitServer& s, const std::string& extra = "") {
    return "    url: " + s.url() + "\n    ssh_key_file: " + s.client_key().string() +
           "\n    known_hosts_file: " + s.known_hosts().string() +
           "\n    fetch_interval: 1s\n    max_retry_delay: 1s\n" + extra;
  }
  std::string http_remote(const HttpGitServer& s, const std::string& token_file = "token") {
    write_file(dir.path() / "token", std::string(k_token) + "\n");
    write_file(dir.path() / "wrong-token", "not-the-token\n");
    return "    url: " + s.url() + "\n    token_file: " + (dir.path() / token_file).string() +
           "\n    token_username: calloutd\n    fetch_interval: 1s\n    max_retry_delay: 1s\n";
  }
  // An engineer's clone of the bare repository (over the file system: the
  // servers may be stopped), `git push` from it.
  fs::path engineer_clone(const fs::path& bare) {
    auto clone = dir.path() / "engineer";
    fs::remove_all(clone);
    git(dir.path(), "clone -q '" + bare.string() + "' engineer");
    git(clone, "config user.name 'An Engineer'");
    git(clone, "config user.email engineer@example.org");
    return clone;
  }
  static std::string metrics(const DaemonProcess& d) {
    auto r = d.client()->Get("/metrics");
    return r ? r->body : "";
  }

  TempDir dir;
};

TEST_F(RemoteTest, SshFetchesAtStartPushesCommitsAndSeesEngineersPushes) {
  SshGitServer server(dir.path() / "ssh");
  // The team's repository already has a README with their own words.
  auto seed = dir.path() / "seed";
  git(dir.path(), "init -q -b main seed");
  write_file(seed / "README.md", "# Our callouts\n\nKept by the SRE team.\n");
  git(seed, "add README.md");
  git(seed, "-c user.name=SRE -c user.email=sre@example.org commit -q -m 'Our callouts'");
  int status = 0;
  auto out =
      testing::run("cd '" + seed.string() + "' && GIT_SSH_COMMAND='" + server.git_ssh_command() +
                       "' git push -q '" + server.url() + "' main 2>&1",
                   &status);
  ASSERT_EQ(status, 0) << out << server.log();

  auto d = start("callouts", ssh_remote(server));
  // Fetched at start: the team's README is in the daemon's working tree.
  EXPECT_TRUE(testing::eventually(10, [&] {
    return fs::exists(dir.path() / "callouts" / "README.md") &&
           read_file(dir.path() / "callouts" / "README.md").find("Kept by the SRE team.") !=
               std::string::npos;
  })) << d->log();

  ASSERT_EQ(d->post_alertmanager(body("SshPushed"))->status, 200);
  ASSERT_TRUE(testing::eventually(20, [&] {
    return remote_file(server.bare(), folder("SshPushed") + "/callout.md").find("## Status") !=
           std::string::npos;
  })) << d->log();
  EXPECT_NE(remote_file(server.bare(), "README.md").find("Kept by the SRE team."),
            std::string::npos);
  EXPECT_NE(
      git(server.bare(), "log -1 --format=%s main").find(folder("SshPushed") + ": opened (MPI)"),
      std::string::npos);

  // An engineer pushes an edit; the daemon fetches it within the interval.
  auto clone = engineer_clone(server.bare());
  auto callout = clone / folder("SshPushed") / "callout.md";
  auto text = read_file(callout);
  text = markdown::set_key(text, "Engineer updates", "Replica re-seeded from a fresh snapshot.");
  text = markdown::set_list_item(text, "Team roles", "Operations", "Ana Example");
  write_file(callout, text);
  git(clone, "commit -q -am 'Engineer update'");
  git(clone, "push -q origin main");
  ASSERT_TRUE(testing::eventually(20, [&] {
    return git(dir.path() / "callouts", "show main:" + folder("SshPushed") + "/callout.md")
               .find("Replica re-seeded") != std::string::npos;
  })) << d->log();
  // The scanner reads what was fetched: the role shows in the API.
  EXPECT_TRUE(testing::eventually(10,
                                  [&] {
                                    auto r = d->client()->Get("/api/v1/incidents");
                                    return r && r->body.find("\"Operations\":\"Ana Example\"") !=
                                                    std::string::npos;
                                  }))
      << d->client()->Get("/api/v1/incidents")->body
      << git(dir.path() / "callouts", "log --format=%an:%s main");
  // The working tree follows the branch (just after it moves).
  EXPECT_TRUE(testing::eventually(5, [&] {
    return read_file(dir.path() / "callouts" / folder("SshPushed") / "callout.md")
               .find("Replica re-seeded") != std::string::npos;
  }));
  // The resolution lands on top of the engineer's edit, both on the remote.
  ASSERT_EQ(d->post_alertmanager(body("SshPushed", true))->status, 200);
  ASSERT_TRUE(testing::eventually(20, [&] {
    auto c = remote_file(server.bare(), folder("SshPushed") + "/callout.md");
    return c.find("Replica re-seeded") != std::string::npos &&
           markdown::key_text(c, "Status").value_or("") == "resolved";
  })) << d->log();
  // The gauges follow just after the push returns.
  EXPECT_TRUE(testing::eventually(5, [&] {
    auto m = metrics(*d);
    return metric(m, "calloutd_remote_unpushed_commits") == 0 &&
           metric(m, "calloutd_remote_pushes_total{outcome=\"pushed\"}") >= 2 &&
           metric(m, "calloutd_remote_up") == 1;
  })) << metrics(*d);
  EXPECT_EQ(git(server.bare(), "fsck --no-progress 2>&1"), "");
  // A clean exit after fetches and pushes (under ASan: nothing leaked).
  d->process().kill(SIGTERM);
  EXPECT_EQ(d->process().wait(20), 0) << d->log();
}

TEST_F(RemoteTest, SshRefusesAWrongKeyAndAnUnknownOrChangedHostKey) {
  SshGitServer server(dir.path() / "ssh");
  // A key the server does not know: alerts are still committed locally.
  testing::run("ssh-keygen -q -t ed25519 -N '' -f '" + (dir.path() / "other_key").string() + "'");
  std::string wrong_key =
      "    url: " + server.url() + "\n    ssh_key_file: " + (dir.path() / "other_key").string() +
      "\n    known_hosts_file: " + server.known_hosts().string() + "\n    fetch_interval: 1s\n";
  {
    auto d = start("wrong-key", wrong_key);
    ASSERT_EQ(d->post_alertmanager(body("WrongKey"))->status, 200);
    ASSERT_TRUE(testing::eventually(10, [&] {
      return git(dir.path() / "wrong-key", "ls-tree -d --name-only main unclassified/")
                 .find("wrong-key") != std::string::npos;
    })) << d->log();
    ASSERT_TRUE(testing::eventually(10, [&] {
      return metric(metrics(*d), "calloutd_remote_unpushed_commits") >= 1;
    })) << d->log();
    auto log = d->log();
    EXPECT_NE(log.find("the remote refused the SSH key " + (dir.path() / "other_key").string()),
              std::string::npos)
        << log;
    // The private key's text never shows.
    auto key = read_file(dir.path() / "other_key");
    auto secret_line = key.substr(key.find('\n') + 1, 40);
    EXPECT_EQ(log.find(secret_line), std::string::npos);
    EXPECT_EQ(metrics(*d).find(secret_line), std::string::npos);
    EXPECT_EQ(metric(metrics(*d), "calloutd_remote_up"), 0);
    EXPECT_EQ(git(server.bare(), "rev-parse --verify -q main"), "");
  }
  // A host missing from known_hosts is refused, naming its fingerprint...
  write_file(dir.path() / "empty_known_hosts", "");
  auto fingerprint = testing::run("ssh-keygen -l -f '" + server.host_public_key().string() +
                                  "' | cut -d' ' -f2 | tr -d '\\n'");
  std::string unknown =
      "    url: " + server.url() + "\n    ssh_key_file: " + server.client_key().string() +
      "\n    known_hosts_file: " + (dir.path() / "empty_known_hosts").string() + "\n";
  {
    auto d = start("unknown-host", unknown);
    ASSERT_TRUE(testing::eventually(10, [&] {
      return d->log().find("is not in " + (dir.path() / "empty_known_hosts").string()) !=
             std::string::npos;
    })) << d->log();
    EXPECT_NE(d->log().find(fingerprint), std::string::npos) << fingerprint << "\n" << d->log();
  }
  // ...unless accept_new_host_key says so: then it is added and trusted.
  {
    auto d = start("unknown-host", unknown + "    accept_new_host_key: true\n");
    ASSERT_EQ(d->post_alertmanager(body("NewHostKey"))->status, 200);
    ASSERT_TRUE(testing::eventually(20, [&] {
      return remote_folders(server.bare()).contains(folder("NewHostKey"));
    })) << d->log();
    auto added = read_file(dir.path() / "empty_known_hosts");
    EXPECT_NE(added.find("[127.0.0.1]:" + std::to_string(server.port()) + " ssh-ed25519 "),
              std::string::npos)
        << added;
    // OpenSSH itself accepts the line it was given.
    int status = 0;
    testing::run("ssh-keygen -F '[127.0.0.1]:" + std::to_string(server.port()) + "' -f '" +
                     (dir.path() / "empty_known_hosts").string() + "'",
                 &status);
    EXPECT_EQ(status, 0);
  }
  // A changed host key is refused even with accept_new_host_key.
  testing::run("ssh-keygen -q -t ed25519 -N '' -f '" + (dir.path() / "impostor").string() + "'");
  auto impostor = read_file(dir.path() / "impostor.pub");
  write_file(dir.path() / "changed_known_hosts", "[127.0.0.1]:" + std::to_string(server.port()) +
                                                     " " + impostor.substr(0, impostor.rfind(' ')) +
                                                     "\n");
  {
    auto d =
        start("changed-host",
              "    url: " + server.url() + "\n    ssh_key_file: " + server.client_key().string() +
                  "\n    known_hosts_file: " + (dir.path() / "changed_known_hosts").string() +
                  "\n    accept_new_host_key: true\n");
    ASSERT_TRUE(testing::eventually(10, [&] {
      return d->log().find("does not match") != std::string::npos;
    })) << d->log();
    EXPECT_EQ(count_lines(read_file(dir.path() / "changed_known_hosts"), "127.0.0.1"), 1);
  }
}

TEST_F(RemoteTest, HttpTokenPushesAndAWrongTokenFailsWithoutShowingIt) {
  HttpGitServer server(dir.path() / "http", "calloutd", k_token);
  {
    auto d = start("wrong", http_remote(server, "wrong-token"));
    ASSERT_EQ(d->post_alertmanager(body("WrongToken"))->status, 200);
    ASSERT_TRUE(testing::eventually(10, [&] {
      return d->log().find("the remote refused the token from token_file") != std::string::npos;
    })) << d->log();
    EXPECT_EQ(d->log().find("not-the-token"), std::string::npos);
    EXPECT_EQ(metrics(*d).find("not-the-token"), std::string::npos);
    EXPECT_EQ(git(server.bare(), "rev-parse --verify -q main"), "");
  }
  auto d = start("callouts", http_remote(server));
  ASSERT_EQ(d->post_alertmanager(body("HttpPushed"))->status, 200);
  ASSERT_TRUE(testing::eventually(20, [&] {
    return remote_folders(server.bare()).contains(folder("HttpPushed"));
  })) << d->log();
  // The commits are pushed; the first daemon's local commit is not (another clone).
  EXPECT_FALSE(remote_folders(server.bare()).contains(folder("WrongToken")));
  EXPECT_EQ(d->log().find(k_token), std::string::npos);
  EXPECT_EQ(metrics(*d).find(k_token), std::string::npos);
  // An engineer clones over HTTP with the token, as a person would.
  int status = 0;
  testing::run("git clone -q '" + server.url_with_token() + "' '" +
                   (dir.path() / "over-http").string() + "' 2>&1",
               &status);
  ASSERT_EQ(status, 0);
  EXPECT_TRUE(fs::exists(dir.path() / "over-http" / folder("HttpPushed") / "postmortem.md"));
  d->process().kill(SIGTERM);
  EXPECT_EQ(d->process().wait(20), 0) << d->log();
}

TEST_F(RemoteTest, APushTheServerRefusesIsRetriedNotTakenForAMove) {
  HttpGitServer server(dir.path() / "http", "calloutd", k_token);
  // A protected branch: the server's hook declines every push.
  auto hook = server.bare() / "hooks" / "pre-receive";
  write_file(hook, "#!/bin/sh\necho 'main is protected' >&2\nexit 1\n");
  fs::permissions(hook, fs::perms::owner_all);
  auto d = start("callouts", http_remote(server));
  ASSERT_EQ(d->post_alertmanager(body("Protected"))->status, 200);
  ASSERT_TRUE(testing::eventually(10, [&] {
    return d->log().find("the remote refused the push") != std::string::npos;
  })) << d->log();
  EXPECT_EQ(d->log().find("the remote moved"), std::string::npos) << d->log();
  EXPECT_NE(d->log().find("pre-receive hook declined"), std::string::npos) << d->log();
  EXPECT_EQ(metric(metrics(*d), "calloutd_remote_up"), 0);
  EXPECT_GE(metric(metrics(*d), "calloutd_remote_unpushed_commits"), 1);
  // Logged once, not once per retry: count after two more refused pushes
  // have been handled (a push is counted before its refusal is logged, so
  // wait for the one after them too).
  auto refused = [&] {
    return metric(metrics(*d), R"(calloutd_remote_pushes_total{outcome="rejected"})");
  };
  auto refused_before = refused();
  EXPECT_GE(refused_before, 1);
  ASSERT_TRUE(testing::eventually(30, [&] { return refused() >= refused_before + 3; })) << d->log();
  EXPECT_EQ(count_lines(d->log(), "the remote refused the push"), 1) << d->log();
  // Someone lifts the protection: the callout arrives.
  fs::remove(hook);
  ASSERT_TRUE(testing::eventually(20, [&] {
    return remote_folders(server.bare()).contains(folder("Protected"));
  })) << d->log();
  EXPECT_TRUE(testing::eventually(
      5, [&] { return metric(metrics(*d), "calloutd_remote_unpushed_commits") == 0; }));
}

TEST_F(RemoteTest, ARemoteThatDropsConnectionsCostsTheConnectTimeoutNotMinutes) {
  // A port whose accept queue is full: a connection to it hangs, as to a host
  // behind a firewall that drops packets.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int port = ntohs(addr.sin_port);
  write_file(dir.path() / "token", std::string(k_token) + "\n");
  auto d = start("callouts", "    url: http://127.0.0.1:" + std::to_string(port) +
                                 "/remote.git\n    token_file: " + (dir.path() / "token").string() +
                                 "\n    connect_timeout: 1s\n    fetch_interval: 1s\n");
  ASSERT_EQ(d->post_alertmanager(body("Blackholed"))->status, 200);
  ASSERT_TRUE(testing::eventually(15, [&] {
    return d->log().find("cannot connect to 127.0.0.1:" + std::to_string(port) + " within 1 s") !=
           std::string::npos;
  })) << d->log();
  EXPECT_TRUE(fs::exists(dir.path() / "callouts" / folder("Blackholed") / "callout.md"));
  // SIGTERM: the last push gives up after the timeout, not after the kernel's minutes.
  d->process().kill(SIGTERM);
  EXPECT_EQ(d->process().wait(20), 0) << d->log();
  for (int fd : fillers) {
    ::close(fd);
  }
  ::close(listener);
}

TEST_F(RemoteTest, HttpsWithTheServersCaTrustedAndNotTrusted) {
  HttpGitServer server(dir.path() / "https", "calloutd", k_token, HttpGitServer::Tls::on);
  {
    // The server's CA is not the system's: refused, with the reason.
    auto d = start("untrusted", http_remote(server));
    ASSERT_EQ(d->post_alertmanager(body("Untrusted"))->status, 200);
    ASSERT_TRUE(testing::eventually(10, [&] {
      return d->log().find("cannot reach the remote") != std::string::npos;
    })) << d->log();
    EXPECT_NE(d->log().find("certificate"), std::string::npos) << d->log();
    EXPECT_EQ(git(server.bare(), "rev-parse --verify -q main"), "");
  }
  auto d =
      start("callouts", http_remote(server) + "    ca_file: " + server.ca_file().string() + "\n");
  ASSERT_EQ(d->post_alertmanager(body("OverHttps"))->status, 200);
  ASSERT_TRUE(testing::eventually(20, [&] {
    return remote_folders(server.bare()).contains(folder("OverHttps"));
  })) << d->log();
  EXPECT_EQ(d->log().find(k_token), std::string::npos);
  // The same repository, cloned by an engineer's git over HTTPS.
  int status = 0;
  testing::run("GIT_SSL_CAINFO='" + server.ca_file().string() + "' git clone -q '" +
                   server.url_with_token() + "' '" + (dir.path() / "engineer-https").string() +
                   "' 2>&1",
               &status);
  ASSERT_EQ(status, 0);
  EXPECT_TRUE(fs::exists(dir.path() / "engineer-https" / folder("OverHttps") / "callout.md"));
}

TEST_F(RemoteTest, RemoteDownForABurstThenAnEngineersEditOfTheSameSectionSurvives) {
  HttpGitServer server(dir.path() / "http", "calloutd", k_token);
  auto d = start("callouts", http_remote(server));
  ASSERT_EQ(d->post_alertmanager(body("SameSection"))->status, 200);
  ASSERT_TRUE(testing::eventually(20, [&] {
    return remote_folders(server.bare()).contains(folder("SameSection"));
  })) << d->log();

  // The remote goes away; a burst of alerts is still accepted and committed.
  server.stop();
  constexpr int k_burst = 20;
  for (int i = 0; i < k_burst; ++i) {
    ASSERT_EQ(d->post_alertmanager(body("Burst" + std::to_string(i)))->status, 200);
  }
  ASSERT_EQ(d->post_alertmanager(body("SameSection", true))->status, 200);
  ASSERT_TRUE(testing::eventually(20, [&] {
    auto m = metrics(*d);
    return metric(m, "calloutd_remote_unpushed_commits") >= 1 &&
           metric(m, "calloutd_remote_oldest_unpushed_commit_age_seconds") >= 1;
  })) << d->log();
  EXPECT_EQ(metric(metrics(*d), "calloutd_remote_up"), 0);
  EXPECT_GE(metric(metrics(*d), "calloutd_remote_pushes_total{outcome=\"failed\"}"), 1);

  // Meanwhile an engineer pushes (straight to the bare repository) a timeline
  // entry of their own into the very section the resolution appends to.
  auto clone = engineer_clone(server.bare());
  auto callout = clone / folder("SameSection") / "callout.md";
  const std::string by_hand = "2026-11-22 03:50:00 UTC - replica restarted by hand";
  write_file(callout, markdown::add_list_entry(read_file(callout), "Incident timeline",
                                               *parse_rfc3339("2026-11-22T03:50:00Z"), by_hand,
                                               markdown::Order::newest_first));
  git(clone, "commit -q -am 'Timeline: replica restarted'");
  ASSERT_EQ(git(clone, "push -q origin main"), "");
  auto engineers_commit = git(clone, "rev-parse HEAD");

  server.start();
  ASSERT_TRUE(testing::eventually(30, [&] {
    return remote_folders(server.bare()).size() == k_burst + 1 &&
           markdown::key_text(remote_file(server.bare(), folder("SameSection") + "/callout.md"),
                              "Status")
                   .value_or("") == "resolved";
  })) << d->log();
  auto c = remote_file(server.bare(), folder("SameSection") + "/callout.md");
  EXPECT_EQ(count_lines(c, by_hand), 1) << c;
  auto timeline = markdown::list_item_sources(c, "Incident timeline");
  std::set<std::string> unique(timeline.begin(), timeline.end());
  EXPECT_EQ(unique.size(), timeline.size()) << c;
  // The engineer's commit is in the remote's history, not overwritten.
  int status = 0;
  git(server.bare(), "merge-base --is-ancestor " + engineers_commit.substr(0, 40) + " main",
      &status);
  EXPECT_EQ(status, 0);
  for (int i = 0; i < k_burst; ++i) {
    EXPECT_EQ(remote_folders(server.bare()).count(folder("Burst" + std::to_string(i))), 1u);
  }
  ASSERT_TRUE(testing::eventually(
      10, [&] { return metric(metrics(*d), "calloutd_remote_unpushed_commits") == 0; }));
  // The daemon's commits were made again on the engineer's, not merged over them.
  EXPECT_NE(d->log().find("applied the daemon's unpushed events on the remote's head"),
            std::string::npos);
  EXPECT_EQ(metric(metrics(*d), "calloutd_remote_oldest_unpushed_commit_age_seconds"), 0);
  EXPECT_EQ(git(server.bare(), "log --format=%B main | grep -c ': opened (MPI)'"),
            std::to_string(k_burst + 1) + "\n");
}

TEST_F(RemoteTest, SigkillInTheMiddleOfAPushResumesWithoutDuplicates) {
  HttpGitServer server(dir.path() / "http", "calloutd", k_token);
  // Each push waits on the server, so that the kill lands inside one: the
  // daemon dies before it hears the answer, and the server still takes it.
  server.set_push_delay(std::chrono::milliseconds(300));
  // A steady stream (up to k_max groups) until the kill; then Alertmanager
  // sends again every group it had sent.
  constexpr int k_max = 2000;
  std::set<int> acknowledged;
  std::atomic<int> sent{0};
  {
    auto d = start("callouts", http_remote(server));
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::thread poster([&] {
      auto client = d->client();
      for (int i = 0; i < k_max && !stop; ++i) {
        sent = i + 1;
        auto r = client->Post("/api/v1/alertmanager", body("Kill" + std::to_string(i)),
                              "application/json");
        if (r && r->status == 200) {
          std::lock_guard lock(mutex);
          acknowledged.insert(i);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
    // Killed while the second push is held: the first is on the remote, the
    // second arrives there without the daemon knowing, the rest is local.
    bool mid_push = testing::eventually(
        60, [&] { return server.pushes_received() >= 1 && server.pushes_in_flight() > 0; });
    d->process().kill(SIGKILL);
    stop = true;
    poster.join();
    d->process().wait(5);
    ASSERT_TRUE(mid_push) << d->log();
  }
  // The push the daemon was killed in lands on the remote all the same.
  ASSERT_TRUE(testing::eventually(10, [&] { return server.pushes_in_flight() == 0; }));
  auto on_remote = remote_folders(server.bare()).size();
  std::printf(
      "SIGKILL during a push: %d sent, %zu acknowledged, %zu on the remote, %d pushes received\n",
      sent.load(), acknowledged.size(), on_remote, server.pushes_received());
  server.set_push_delay(std::chrono::milliseconds(0));
  auto d = start("callouts", http_remote(server));
  // Every acknowledged alert arrives once; then Alertmanager retries them all.
  ASSERT_TRUE(testing::eventually(60, [&] {
    auto present = remote_folders(server.bare());
    return std::all_of(acknowledged.begin(), acknowledged.end(),
                       [&](int i) { return present.contains(folder("Kill" + std::to_string(i))); });
  })) << d->log();
  const int k_groups = sent.load();
  auto client = d->client();
  for (int i = 0; i < k_groups; ++i) {
    ASSERT_EQ(
        client->Post("/api/v1/alertmanager", body("Kill" + std::to_string(i)), "application/json")
            ->status,
        200);
  }
  ASSERT_TRUE(testing::eventually(60, [&] {
    return remote_folders(server.bare()).size() == static_cast<std::size_t>(k_groups) &&
           git(dir.path() / "callouts", "rev-parse main") == git(server.bare(), "rev-parse main");
  })) << d->log();
  for (int i = 0; i < k_groups; ++i) {
    EXPECT_EQ(remote_folders(server.bare()).count(folder("Kill" + std::to_string(i))), 1u);
  }
  EXPECT_EQ(git(server.bare(), "log --format=%B main | grep -c ': opened (MPI)'"),
            std::to_string(k_groups) + "\n");
  EXPECT_EQ(git(server.bare(), "fsck --no-progress 2>&1"), "");
}

TEST_F(RemoteTest, PeoplesCommitsInTheDaemonsCloneAreCarriedOverOrKept) {
  HttpGitServer server(dir.path() / "http", "calloutd", k_token);
  auto d = start("callouts", http_remote(server));
  auto local = dir.path() / "callouts";
  ASSERT_EQ(d->post_alertmanager(body("CarriedOver"))->status, 200);
  ASSERT_TRUE(testing::eventually(20, [&] {
    return remote_folders(server.bare()).contains(folder("CarriedOver"));
  })) << d->log();
  server.stop();
  // Someone commits in the daemon's own clone while the remote is away...
  auto callout = local / folder("CarriedOver") / "callout.md";
  write_file(callout, markdown::set_key(read_file(callout), "Engineer updates",
                                        "Failover rehearsed on the replica."));
  git(local,
      "-c user.name='Local Engineer' -c user.email=local@example.org commit -q -am "
      "'Engineer updates from the daemon host'");
  // ...someone else pushes to the remote...
  auto clone = engineer_clone(server.bare());
  write_file(clone / "runbooks" / "db.md", "# DB runbook\n");
  git(clone, "add runbooks");
  git(clone, "commit -q -m 'Runbook'");
  ASSERT_EQ(git(clone, "push -q origin main"), "");
  // ...and the daemon commits an alert on top of the local commit.
  ASSERT_EQ(d->post_alertmanager(body("AfterTheEdit"))->status, 200);
  server.start();
  ASSERT_TRUE(testing::eventually(30, [&] {
    return remote_folders(server.bare()).contains(folder("AfterTheEdit")) &&
           git(local, "rev-parse main") == git(server.bare(), "rev-parse main");
  })) << d->log();
  // All three are on the remote; the local commit keeps its author.
  EXPECT_NE(remote_file(server.bare(), folder("CarriedOver") + "/callout.md")
                .find("Failover rehearsed on the replica."),
            std::string::npos);
  EXPECT_EQ(remote_file(server.bare(), "runbooks/db.md"), "# DB runbook\n");
  EXPECT_NE(git(server.bare(), "log --format='%an: %s' main")
                .find("Local Engineer: Engineer updates from the daemon host"),
            std::string::npos);
  EXPECT_EQ(git(local, "for-each-ref refs/calloutd/kept"), "");

  // A local commit that conflicts with the remote is not pushed but kept.
  server.stop();
  write_file(callout, markdown::set_key(read_file(callout), "Engineer updates", "Local words."));
  git(local,
      "-c user.name='Local Engineer' -c user.email=local@example.org commit -q -am "
      "'Local words'");
  git(clone, "pull -q");
  auto remote_callout = clone / folder("CarriedOver") / "callout.md";
  write_file(remote_callout,
             markdown::set_key(read_file(remote_callout), "Engineer updates", "Remote words."));
  git(clone, "commit -q -am 'Remote words'");
  ASSERT_EQ(git(clone, "push -q origin main"), "");
  ASSERT_EQ(d->post_alertmanager(body("AfterTheConflict"))->status, 200);
  server.start();
  ASSERT_TRUE(testing::eventually(30, [&] {
    return remote_folders(server.bare()).contains(folder("AfterTheConflict")) &&
           git(local, "rev-parse main") == git(server.bare(), "rev-parse main");
  })) << d->log();
  auto c = remote_file(server.bare(), folder("CarriedOver") + "/callout.md");
  EXPECT_NE(c.find("Remote words."), std::string::npos);
  EXPECT_EQ(c.find("Local words."), std::string::npos);
  auto kept = git(local, "for-each-ref --format='%(refname)' refs/calloutd/kept");
  ASSERT_NE(kept, "") << d->log();
  EXPECT_NE(git(local, "show " + kept.substr(0, kept.size() - 1) + ":" + folder("CarriedOver") +
                           "/callout.md")
                .find("Local words."),
            std::string::npos);
  EXPECT_NE(d->log().find("local commits by people conflict with the remote"), std::string::npos);
}

TEST_F(RemoteTest, ARemoteAddedOverALocalHistoryKeepsItAndFollowsTheRemote) {
  // A daemon ran for a while without a remote.
  write_file(dir.path() / "local.yml", "repository:\n  path: callouts\n");
  {
    DaemonProcess d(dir.path(), {"--config.file=local.yml"});
    ASSERT_EQ(d.post_alertmanager(body("BeforeTheRemote"))->status, 200);
    ASSERT_TRUE(testing::eventually(10, [&] {
      return fs::exists(dir.path() / "callouts" / folder("BeforeTheRemote") / "callout.md");
    }));
  }
  auto old_head = git(dir.path() / "callouts", "rev-parse main");
  // Then the team points it at their repository, which has its own history.
  HttpGitServer server(dir.path() / "http", "calloutd", k_token);
  auto clone = engineer_clone(server.bare());
  write_file(clone / "README.md", "# Team callouts\n");
  git(clone, "add README.md");
  git(clone, "commit -q -m 'Team repository'");
  ASSERT_EQ(git(clone, "push -q origin main"), "");

  auto d = start("callouts", http_remote(server));
  // The remote's history is followed, the callout is made again on it from
  // the journal, and the old local history stays under a ref.
  ASSERT_TRUE(testing::eventually(20, [&] {
    return remote_folders(server.bare()).contains(folder("BeforeTheRemote")) &&
           git(dir.path() / "callouts", "rev-parse main") == git(server.bare(), "rev-parse main");
  })) << d->log();
  EXPECT_EQ(remote_file(server.bare(), "README.md").substr(0, 16), "# Team callouts\n");
  auto kept =
      git(dir.path() / "callouts", "for-each-ref --format='%(objectname)' refs/calloutd/kept");
  EXPECT_EQ(kept, old_head) << d->log();
  EXPECT_NE(d->log().find("the remote's history is unrelated"), std::string::npos);
}

TEST_F(RemoteTest, TwoDaemonsOnOneRemoteConvergeOnOneCalloutPerIncident) {
  SshGitServer server(dir.path() / "ssh");
  auto a = start("daemon-a", ssh_remote(server));
  auto b = start("daemon-b", ssh_remote(server));
  // Both Alertmanager peers deliver every notification to both daemons: a
  // burst of new groups, then resolutions for half of them.
  constexpr int k_groups = 30;
  auto deliver = [&](const DaemonProcess& d) {
    auto client = d.client();
    for (int i = 0; i < k_groups; ++i) {
      client->Post("/api/v1/alertmanager", body("Pair" + std::to_string(i)), "application/json");
    }
    for (int i = 0; i < k_groups; i += 2) {
      client->Post("/api/v1/alertmanager", body("Pair" + std::to_string(i), true),
                   "application/json");
    }
  };
  std::thread to_a([&] { deliver(*a); });
  std::thread to_b([&] { deliver(*b); });
  to_a.join();
  to_b.join();
  auto settled = [&] {
    auto head = git(server.bare(), "rev-parse main");
    return remote_folders(server.bare()).size() >= k_groups &&
           git(dir.path() / "daemon-a", "rev-parse main") == head &&
           git(dir.path() / "daemon-b", "rev-parse main") == head;
  };
  ASSERT_TRUE(testing::eventually(90, settled)) << a->log() << b->log();
  // Everything either daemon accepted is applied, and still settled.
  ASSERT_TRUE(testing::all_applied(dir.path() / "daemon-a" / ".git" / "calloutd", 60));
  ASSERT_TRUE(testing::all_applied(dir.path() / "daemon-b" / ".git" / "calloutd", 60));
  ASSERT_TRUE(testing::eventually(60, settled)) << a->log() << b->log();
  auto folders = remote_folders(server.bare());
  EXPECT_EQ(folders.size(), static_cast<std::size_t>(k_groups));
  for (int i = 0; i < k_groups; ++i) {
    auto name = "Pair" + std::to_string(i);
    ASSERT_EQ(folders.count(folder(name)), 1u) << name;
    auto c = remote_file(server.bare(), folder(name) + "/callout.md");
    auto timeline = markdown::list_item_sources(c, "Incident timeline");
    std::set<std::string> unique(timeline.begin(), timeline.end());
    EXPECT_EQ(unique.size(), timeline.size()) << c;
    EXPECT_EQ(markdown::key_text(c, "Status").value_or(""), i % 2 == 0 ? "resolved" : "active")
        << c;
  }
  EXPECT_EQ(git(server.bare(), "log --format=%B main | grep -c ': opened (MPI)'"),
            std::to_string(k_groups) + "\n");
  // Both daemons report the same open incidents.
  auto open = [](const DaemonProcess& d) {
    return json::parse(d.client()->Get("/api/v1/incidents")->body)["incidents"].size();
  };
  EXPECT_EQ(open(*a), static_cast<std::size_t>(k_groups / 2));
  EXPECT_EQ(open(*b), static_cast<std::size_t>(k_groups / 2));

  // A peer that reaches only one daemon: new groups only to B, resolutions of
  // the open ones only to A, at the same time. Nothing is lost on either side.
  std::thread only_b([&] {
    auto client = b->client();
    for (int i = 0; i < 5; ++i) {
      client->Post("/api/v1/alertmanager", body("OnlyB" + std::to_string(i)), "application/json");
    }
  });
  std::thread only_a([&] {
    auto client = a->client();
    for (int i = 1; i < k_groups; i += 2) {
      client->Post("/api/v1/alertmanager", body("Pair" + std::to_string(i), true),
                   "application/json");
    }
  });
  only_b.join();
  only_a.join();
  ASSERT_TRUE(testing::eventually(60,
                                  [&] {
                                    return settled() &&
                                           remote_folders(server.bare()).size() == k_groups + 5 &&
                                           open(*a) == 5 && open(*b) == 5;
                                  }))
      << a->log() << b->log();
  for (int i = 1; i < k_groups; i += 2) {
    auto c = remote_file(server.bare(), folder("Pair" + std::to_string(i)) + "/callout.md");
    EXPECT_EQ(markdown::key_text(c, "Status").value_or(""), "resolved") << c;
  }
  EXPECT_EQ(git(server.bare(), "log --format=%B main | grep -c ': opened (MPI)'"),
            std::to_string(k_groups + 5) + "\n");
}

}  // namespace
}  // namespace calloutd
