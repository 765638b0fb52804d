// A real Prometheus (Debian package) scraping calloutd on loopback: an
// engineer's commit adding an overdue action item shows up as
// calloutd_action_items_overdue, and every PromQL expression of the shipped
// Grafana dashboard and alert rules parses and returns a series.
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <set>

#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/render.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/git_servers.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::eventually;
using testing::git;
using testing::Process;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

// Every expr of the dashboard's panel targets.
std::vector<std::string> dashboard_exprs() {
  std::vector<std::string> out;
  auto dash = json::parse(read_file(CALLOUTD_SOURCE_DIR "/config/grafana/calloutd.json"));
  for (const auto& panel : dash["panels"]) {
    for (const auto& target : panel["targets"]) {
      out.push_back(target["expr"]);
    }
  }
  return out;
}

std::vector<std::string> rule_exprs() {
  std::vector<std::string> out;
  auto rules = YAML::LoadFile(CALLOUTD_SOURCE_DIR "/config/prometheus/calloutd-rules.yml");
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      out.push_back(rule["expr"].as<std::string>());
    }
  }
  return out;
}

TEST(MetricsEndToEndTest, PrometheusSeesEngineersEditsAndEveryPanelQueryWorks) {
  TempDir dir;
  // With a remote (a bare repository on disk), so that its panels have series too.
  testing::make_bare_repository(dir.path() / "remote.git");
  write_file(dir.path() / "calloutd.yml",
             "repository:\n  remote:\n    url: " + (dir.path() / "remote.git").string() + "\n");
  DaemonProcess calloutd(dir.path(), {"--repo.path=callouts", "--config.file=calloutd.yml"});
  ASSERT_EQ(
      calloutd
          .post_alertmanager(testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"))
          ->status,
      200);
  auto repo = dir.path() / "callouts";
  auto pm_path = repo / "unclassified/postgres-replication-lag-2026-11-22/postmortem.md";
  ASSERT_TRUE(eventually(10, [&] {
    return std::filesystem::exists(pm_path) && git(repo, "status --porcelain").empty();
  }));

  int prom_port = testing::free_port();
  write_file(dir.path() / "prometheus.yml", R"(
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [')" + std::string(CALLOUTD_SOURCE_DIR) +
                                                "/config/prometheus/calloutd-rules.yml" + R"(']
scrape_configs:
  - job_name: calloutd
    static_configs:
      - targets: ['127.0.0.1:)" + std::to_string(calloutd.port()) +
                                                R"(']
)");
  Process prometheus({"prometheus", "--config.file=prometheus.yml", "--storage.tsdb.path=prom-data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                     (dir.path() / "prometheus.log").string(), dir.path());
  httplib::Client prom("127.0.0.1", prom_port);
  auto query = [&](const std::string& expr) -> json {
    auto r = prom.Get("/api/v1/query?query=" + percent_encode(expr));
    return r && r->status < 500 ? json::parse(r->body) : json{};
  };

  // An engineer adds an overdue action item and commits in the working tree.
  auto text = read_file(pm_path);
  auto header = text.find("| --- | --- | --- | --- | --- | --- |\n");
  ASSERT_NE(header, std::string::npos);
  text.insert(header + 38,
              "| Alert on replication lag earlier | prevent | Ana | OPS-7 | 2020-01-01 | TODO |\n"
              "| Document failover | process | Bo | n/a | 2999-01-01 | IN PROGRESS |\n");
  write_file(pm_path, text);
  int status = 0;
  git(repo, "-c user.name=Engineer -c user.email=e@example.com commit -qam 'action items'",
      &status);
  ASSERT_EQ(status, 0);

  ASSERT_TRUE(eventually(60, [&] {
    auto r = query("calloutd_action_items_overdue{technology=\"unclassified\",type=\"prevent\"}");
    return !r.empty() && !r["data"]["result"].empty() && r["data"]["result"][0]["value"][1] == "1";
  })) << read_file(dir.path() / "prometheus.log");
  auto open = query("sum(calloutd_action_items_open)");
  EXPECT_EQ(open["data"]["result"][0]["value"][1], "2");
  auto overdue = query("sum(calloutd_action_items_overdue)");
  EXPECT_EQ(overdue["data"]["result"][0]["value"][1], "1");
  // Rates need two scrapes of each counter: wait for a scrape of calloutd
  // after the one that showed the edit.
  auto last_scrape = [&] {
    auto r = query(R"(timestamp(up{job="calloutd"}))");
    return r.empty() || r["data"]["result"].empty()
               ? 0.0
               : std::stod(r["data"]["result"][0]["value"][1].get<std::string>());
  };
  auto edit_seen_at = last_scrape();
  ASSERT_GT(edit_seen_at, 0);
  ASSERT_TRUE(eventually(30, [&] { return last_scrape() > edit_seen_at; }))
      << read_file(dir.path() / "prometheus.log");

  for (const auto& expr : dashboard_exprs()) {
    auto r = query(expr);
    ASSERT_EQ(r.value("status", ""), "success") << expr << "\n" << r.dump();
    EXPECT_FALSE(r["data"]["result"].empty()) << "no series for the dashboard query " << expr;
  }
  // A rule's expression holds only while it fires; each metric it reads must exist.
  for (const auto& expr : rule_exprs()) {
    auto r = query(expr);
    ASSERT_EQ(r.value("status", ""), "success") << expr << "\n" << r.dump();
    re2::StringPiece input(expr);
    std::string metric;
    std::set<std::string> metrics;
    while (RE2::FindAndConsume(&input, R"(\b(calloutd_[a-z_]+|up)\b)", &metric)) {
      metrics.insert(metric);
    }
    for (const auto& m : metrics) {
      EXPECT_FALSE(query(m)["data"]["result"].empty())
          << "rule " << expr << " reads " << m << ", which has no series";
    }
  }
  // The overdue-item rule's condition holds now.
  EXPECT_FALSE(query(rule_exprs().front())["data"]["result"].empty());
}

}  // namespace
}  // namespace calloutd
