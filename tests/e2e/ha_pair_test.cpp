// An HA pair end to end: Debian's Prometheus sends its alerts to two
// Alertmanagers, each of which delivers every notification to both of two
// calloutd daemons; the daemons share one remote, a bare repository served by
// OpenSSH's sshd. The remote ends with one callout per incident and each
// timeline entry once. Everything runs on 127.0.0.1 and is stopped by the test.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/writeup/markdown.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/git_servers.hpp"
#include "tests/support/switch_target.hpp"

namespace calloutd {
namespace {

using testing::DaemonProcess;
using testing::eventually;
using testing::git;
using testing::Process;
using testing::SshGitServer;
using testing::SwitchTarget;
using testing::TempDir;
using testing::write_file;

constexpr int k_clusters = 3;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

TEST(HaPairEndToEndTest, TwoAlertmanagersTwoDaemonsOneRemoteOneCalloutPerIncident) {
  TempDir dir;
  SshGitServer remote(dir.path() / "ssh");
  SwitchTarget target({"eu-1", "eu-2", "eu-3"});
  target.set(1);

  // Two daemons, each its own clone and journal, one remote.
  std::vector<std::unique_ptr<DaemonProcess>> daemons;
  for (const char* name : {"a", "b"}) {
    auto config = dir.path() / (std::string(name) + ".yml");
    write_file(config, "repository:\n  path: callouts-" + std::string(name) +
                           "\n  remote:\n    url: " + remote.url() +
                           "\n    ssh_key_file: " + remote.client_key().string() +
                           "\n    known_hosts_file: " + remote.known_hosts().string() +
                           "\n    fetch_interval: 1s\n    max_retry_delay: 1s\n");
    daemons.push_back(std::make_unique<DaemonProcess>(
        dir.path(), std::vector<std::string>{"--config.file=" + config.string()}));
  }

  // Two Alertmanagers, not clustered: each delivers every notification, to both daemons.
  std::string webhooks;
  for (const auto& d : daemons) {
    webhooks += "      - url: " + d->url() + "/api/v1/alertmanager\n        send_resolved: true\n";
  }
  std::vector<int> am_ports;
  std::vector<std::unique_ptr<Process>> alertmanagers;
  for (int k = 0; k < 2; ++k) {
    am_ports.push_back(testing::free_port());
    auto name = "alertmanager-" + std::to_string(k);
    write_file(dir.path() / (name + ".yml"), R"(
route:
  receiver: calloutd-pair
  group_by: ['alertname', 'cluster']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: calloutd-pair
    webhook_configs:
)" + webhooks);
    alertmanagers.push_back(std::make_unique<Process>(
        std::vector<std::string>{
            "prometheus-alertmanager", "--config.file=" + name + ".yml",
            "--storage.path=" + name + "-data",
            "--web.listen-address=127.0.0.1:" + std::to_string(am_ports.back()),
            "--cluster.listen-address="},
        (dir.path() / (name + ".log")).string(), dir.path()));
  }

  int prom_port = testing::free_port();
  write_file(dir.path() / "rules.yml", R"(
groups:
  - name: e2e
    rules:
      - alert: PostgresPrimaryDown
        expr: e2e_database_down == 1
        labels:
          severity: critical
          technology: postgres
        annotations:
          summary: "Postgres primary down in {{ $labels.cluster }}"
)");
  write_file(dir.path() / "prometheus.yml", R"(
global:
  scrape_interval: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:)" + std::to_string(am_ports[0]) +
                                                "', '127.0.0.1:" + std::to_string(am_ports[1]) +
                                                R"(']
rule_files: ['rules.yml']
scrape_configs:
  - job_name: e2e-switch
    static_configs:
      - targets: ['127.0.0.1:)" + std::to_string(target.port()) +
                                                R"(']
)");
  Process prometheus({"prometheus", "--config.file=prometheus.yml", "--storage.tsdb.path=prom-data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                      "--rules.alert.resend-delay=1s"},
                     (dir.path() / "prometheus.log").string(), dir.path());

  auto folders = [&] { return lines(git(remote.bare(), "ls-tree -d --name-only main postgres/")); };
  auto in_step = [&] {
    auto head = git(remote.bare(), "rev-parse main");
    return git(dir.path() / "callouts-a", "rev-parse main") == head &&
           git(dir.path() / "callouts-b", "rev-parse main") == head;
  };
  auto all_status = [&](const std::string& status) {
    auto f = folders();
    if (f.size() != k_clusters) {
      return false;
    }
    for (const auto& folder : f) {
      if (markdown::key_text(git(remote.bare(), "show main:" + folder + "/callout.md"), "Status") !=
          status) {
        return false;
      }
    }
    return true;
  };
  // 1. Firing: one callout per cluster on the remote, both daemons in step.
  ASSERT_TRUE(eventually(120, [&] { return all_status("active") && in_step(); }))
      << daemons[0]->log() << daemons[1]->log();
  // 2. Resolved.
  target.set(0);
  ASSERT_TRUE(eventually(120, [&] { return all_status("resolved") && in_step(); }))
      << daemons[0]->log() << daemons[1]->log();
  // Every notification either daemon accepted is applied, and they agree.
  ASSERT_TRUE(testing::all_applied(dir.path() / "callouts-a" / ".git" / "calloutd", 60));
  ASSERT_TRUE(testing::all_applied(dir.path() / "callouts-b" / ".git" / "calloutd", 60));
  ASSERT_TRUE(eventually(60, in_step)) << daemons[0]->log() << daemons[1]->log();

  auto f = folders();
  ASSERT_EQ(f.size(), static_cast<std::size_t>(k_clusters));
  for (const auto& folder : f) {
    auto callout = git(remote.bare(), "show main:" + folder + "/callout.md");
    auto timeline = markdown::list_item_sources(callout, "Incident timeline");
    std::set<std::string> unique(timeline.begin(), timeline.end());
    EXPECT_EQ(unique.size(), timeline.size()) << callout;
    EXPECT_EQ(std::count_if(timeline.begin(), timeline.end(),
                            [](const std::string& e) {
                              return e.find("callout opened as MPI") != std::string::npos;
                            }),
              1)
        << callout;
    EXPECT_EQ(std::count_if(timeline.begin(), timeline.end(),
                            [](const std::string& e) {
                              return e.find("Status set to resolved") != std::string::npos;
                            }),
              1)
        << callout;
  }
  // Each opening and each resolution was committed once (group commits list
  // their changes one per line).
  auto history = git(remote.bare(), "log --format=%B main");
  auto count = [&](const std::string& what) {
    auto l = lines(history);
    return std::count_if(l.begin(), l.end(), [&](const std::string& line) {
      return line.find(what) != std::string::npos;
    });
  };
  EXPECT_EQ(count(": opened (MPI)"), k_clusters) << history;
  EXPECT_EQ(count(": resolved"), k_clusters) << history;
  for (const auto& d : daemons) {
    auto open = d->client()->Get("/api/v1/incidents")->body;
    EXPECT_EQ(open.find("postgres/"), std::string::npos) << open;
  }
  std::printf("HA pair: %zu callouts, remote history:\n%s", f.size(), history.c_str());
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// An engineer resolves a callout by hand and pushes: both daemons of the pair
// fetch the edit, and the remote ends with one "resolved in the file" entry.
TEST(HaPairEndToEndTest, AnEditPushedToTheRemoteIsRecordedOnce) {
  TempDir dir;
  SshGitServer remote(dir.path() / "ssh");
  std::vector<std::unique_ptr<DaemonProcess>> daemons;
  for (const char* name : {"a", "b"}) {
    auto config = dir.path() / (std::string(name) + ".yml");
    write_file(config, "repository:\n  path: callouts-" + std::string(name) +
                           "\n  poll_interval: 1s\n  remote:\n    url: " + remote.url() +
                           "\n    ssh_key_file: " + remote.client_key().string() +
                           "\n    known_hosts_file: " + remote.known_hosts().string() +
                           "\n    fetch_interval: 1s\n    max_retry_delay: 1s\n"
                           "routes:\n  - matchers: ['service=\"api\"']\n    severity: HPI\n"
                           "    technology: api\n");
    daemons.push_back(std::make_unique<DaemonProcess>(
        dir.path(), std::vector<std::string>{"--config.file=" + config.string()}));
  }
  const std::string callout = "api/high-request-latency-2026-11-22/callout.md";
  auto on_remote = [&] { return git(remote.bare(), "show main:" + callout); };
  auto in_step = [&] {
    auto head = git(remote.bare(), "rev-parse main");
    return git(dir.path() / "callouts-a", "rev-parse main") == head &&
           git(dir.path() / "callouts-b", "rev-parse main") == head;
  };
  for (const auto& d : daemons) {
    ASSERT_EQ(d->post_alertmanager(testing::sample("am-0.25-firing-two-alerts.json"))->status, 200);
  }
  ASSERT_TRUE(
      eventually(60, [&] { return on_remote().find("Status") != std::string::npos && in_step(); }))
      << daemons[0]->log() << daemons[1]->log();

  // The engineer's clone: resolve, commit, push.
  auto clone = dir.path() / "engineer";
  git(dir.path(), "clone -q " + remote.bare().string() + " " + clone.string());
  auto path = clone / callout;
  write_file(path, markdown::set_key(testing::read_file(path), "Status", "resolved"));
  int status = 0;
  git(clone, "-c user.name=Engineer -c user.email=e@example.com commit -qam 'api: resolved'",
      &status);
  ASSERT_EQ(status, 0);
  git(clone, "push -q origin main", &status);
  ASSERT_EQ(status, 0);

  ASSERT_TRUE(eventually(
      60,
      [&] { return on_remote().find("resolved in the file") != std::string::npos && in_step(); }))
      << daemons[0]->log() << daemons[1]->log();
  // Whatever either daemon journaled is applied, and they agree again.
  ASSERT_TRUE(testing::all_applied(dir.path() / "callouts-a" / ".git" / "calloutd", 60));
  ASSERT_TRUE(testing::all_applied(dir.path() / "callouts-b" / ".git" / "calloutd", 60));
  ASSERT_TRUE(eventually(60, in_step)) << daemons[0]->log() << daemons[1]->log();
  auto timeline = markdown::list_item_sources(on_remote(), "Incident timeline");
  EXPECT_EQ(std::count_if(timeline.begin(), timeline.end(),
                          [](const std::string& e) {
                            return e.find("resolved in the file") != std::string::npos;
                          }),
            1)
      << on_remote();
  EXPECT_EQ(markdown::key_text(on_remote(), "Status"), "resolved");
  for (const auto& d : daemons) {
    auto open = d->client()->Get("/api/v1/incidents")->body;
    EXPECT_EQ(open.find("api/"), std::string::npos) << open;
  }
}

}  // namespace
}  // namespace calloutd
