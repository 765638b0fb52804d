// End to end with the real thing: Debian's Prometheus evaluates an alerting
// rule over a target this test controls, Debian's Alertmanager delivers the
// notifications to the calloutd binary, and Prometheus scrapes calloutd's
// /metrics. Everything runs on 127.0.0.1 and is stopped by the test.
#include <gtest/gtest.h>
#include <httplib.h>
#include <re2/re2.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon/writeup/markdown.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/switch_target.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::eventually;
using testing::git;
using testing::Process;
using testing::SwitchTarget;
using testing::TempDir;
using testing::write_file;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

TEST(EndToEndTest, PrometheusAlertThroughAlertmanagerBecomesACalloutThenResolves) {
  TempDir dir;
  SwitchTarget target;
  target.set(1);
  write_file(dir.path() / "token", "e2e-token\n");
  write_file(dir.path() / "calloutd.yml", R"(
repository:
  path: callouts
receivers:
  alertmanager:
    bearer_token_file: token
)");
  DaemonProcess calloutd(dir.path(), {"--config.file=calloutd.yml"});

  int am_port = testing::free_port();
  write_file(dir.path() / "alertmanager.yml", R"(
route:
  receiver: calloutd
  group_by: ['alertname', 'cluster']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: calloutd
    webhook_configs:
      - url: http://127.0.0.1:)" + std::to_string(calloutd.port()) +
                                                  R"(/api/v1/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: e2e-token
)");
  Process alertmanager(
      {"prometheus-alertmanager", "--config.file=alertmanager.yml", "--storage.path=am-data",
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
      (dir.path() / "alertmanager.log").string(), dir.path());

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
          description: "The primary of {{ $labels.cluster }} does not answer"
          dashboard: "https://grafana.example.com/d/pg?var-cluster={{ $labels.cluster }}"
          runbook_url: "https://runbooks.example.com/postgres-primary-down"
)");
  write_file(dir.path() / "prometheus.yml", R"(
global:
  scrape_interval: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:)" + std::to_string(am_port) +
                                                R"(']
rule_files: ['rules.yml']
scrape_configs:
  - job_name: e2e-switch
    static_configs:
      - targets: ['127.0.0.1:)" + std::to_string(target.port()) +
                                                R"(']
  - job_name: calloutd
    static_configs:
      - targets: ['127.0.0.1:)" + std::to_string(calloutd.port()) +
                                                R"(']
)");
  auto started = Clock::now();
  Process prometheus({"prometheus", "--config.file=prometheus.yml", "--storage.tsdb.path=prom-data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                      "--rules.alert.resend-delay=1s"},
                     (dir.path() / "prometheus.log").string(), dir.path());

  // 1. Firing: a commit with the callout appears.
  auto repo = dir.path() / "callouts";
  std::string folder;
  ASSERT_TRUE(eventually(
      90,
      [&] {
        auto files = git(repo, "ls-tree -r --name-only main");
        return RE2::PartialMatch(
            files, R"((postgres/postgres-primary-down-\d{4}-\d{2}-\d{2})/callout\.md)", &folder);
      }))
      << calloutd.log() << testing::read_file(dir.path() / "alertmanager.log");
  double fired_after = seconds_since(started);
  auto callout = git(repo, "show main:" + folder + "/callout.md");
  EXPECT_EQ(markdown::key_text(callout, "Severity"), "MPI");
  EXPECT_EQ(markdown::key_text(callout, "Status"), "active");
  EXPECT_EQ(markdown::key_text(callout, "Summary"),
            "Postgres primary down in eu-1. The primary of eu-1 does not answer");
  EXPECT_NE(
      callout.find("- Dashboard: [Dashboard](https://grafana.example.com/d/pg?var-cluster=eu-1)"),
      std::string::npos);
  EXPECT_NE(
      callout.find("- Runbook: [Runbook](https://runbooks.example.com/postgres-primary-down)"),
      std::string::npos);
  EXPECT_NE(callout.find("- Alert source: [Prometheus graph](http://"), std::string::npos);
  EXPECT_TRUE(RE2::PartialMatch(callout, R"(\| PostgresPrimaryDown \| eu-1 \|)")) << callout;
  EXPECT_TRUE(RE2::PartialMatch(
      callout,
      R"(- \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC - Alertmanager - PostgresPrimaryDown firing \(1 alert\); callout opened as MPI)"));
  EXPECT_NE(git(repo, "show main:" + folder + "/postmortem.md").find("## Action Items"),
            std::string::npos);

  // 2. Prometheus scrapes calloutd and sees the open incident.
  httplib::Client prom("127.0.0.1", prom_port);
  ASSERT_TRUE(eventually(30, [&] {
    auto r = prom.Get("/api/v1/query?query=calloutd_incidents_open%7Bseverity%3D%22MPI%22%7D");
    if (!r || r->status != 200) {
      return false;
    }
    auto result = json::parse(r->body)["data"]["result"];
    return !result.empty() && result[0]["value"][1] == "1" &&
           result[0]["metric"]["technology"] == "postgres";
  }));

  // 3. Resolved: Status flips with a timeline entry; nothing else is opened.
  auto resolving = Clock::now();
  target.set(0);
  ASSERT_TRUE(eventually(90, [&] {
    return markdown::key_text(git(repo, "show main:" + folder + "/callout.md"), "Status") ==
           "resolved";
  })) << calloutd.log();
  double resolved_after = seconds_since(resolving);
  callout = git(repo, "show main:" + folder + "/callout.md");
  // One entry for the resolution, with how long it lasted.
  EXPECT_NE(callout.find(", the last alert of the group, resolved; open for "), std::string::npos)
      << callout;
  EXPECT_NE(callout.find(", not acknowledged (target 15m); Status set to resolved\n"),
            std::string::npos)
      << callout;
  EXPECT_NE(callout.find("- All alerts of the group resolved - DONE ("), std::string::npos);
  // Every file the daemon wrote passes its own blameless lint.
  int lint_status = -1;
  auto lint = testing::lint_repository(repo, &lint_status);
  EXPECT_EQ(lint_status, 0) << lint;
  EXPECT_NE(lint.find("calloutctl lint: 0 errors, 0 warnings in 2 files"), std::string::npos)
      << lint;
  auto log = git(repo, "log --format=%s main");
  EXPECT_EQ(log, folder + ": resolved\n" + folder + ": opened (MPI)\n");
  auto folders = git(repo, "ls-tree -d --name-only main postgres/");
  EXPECT_EQ(std::count(folders.begin(), folders.end(), '\n'), 1);

  // The figures for the closing note and the README.
  auto metrics = calloutd.client()->Get("/metrics")->body;
  std::printf(
      "e2e: callout committed %.1f s after Prometheus started; resolved %.1f s after the target "
      "recovered\n",
      fired_after, resolved_after);
  RE2 bucket(R"(calloutd_webhook_to_commit_seconds_(sum|count) ([0-9.e+-]+))");
  std::string which, value;
  re2::StringPiece input(metrics);
  while (RE2::FindAndConsume(&input, bucket, &which, &value)) {
    std::printf("e2e: calloutd_webhook_to_commit_seconds_%s %s\n", which.c_str(), value.c_str());
  }
}

}  // namespace
}  // namespace calloutd
