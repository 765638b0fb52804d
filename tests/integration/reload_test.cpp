// Reloading the configuration of a running daemon (SIGHUP, POST /-/reload):
// a new route files the next alert and no alert is lost across the reload; a
// broken file is refused whole and changes nothing; the endpoint is off
// unless --web.enable-lifecycle, authenticated, and applies new credentials
// and limits at once while restart-only settings are reported.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::git;
using testing::metric;
using testing::occurrences;
using testing::sample;
using testing::TempDir;
using testing::write_file;

constexpr const char* k_api_only = R"(
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

// k_api_only plus a route for the database's alerts.
const std::string k_api_and_db = std::string(k_api_only) + R"(  - matchers: ['service="db"']
    severity: MPI
    technology: postgres
)";

// The firing sample as its own group: `alertname` and `service` on every alert.
std::string alert(const std::string& alertname, const std::string& service) {
  auto body = json::parse(sample("am-0.25-firing-two-alerts.json"));
  body["groupKey"] = "{}:{alertname=\"" + alertname + "\"}";
  for (auto* labels : {&body["groupLabels"], &body["commonLabels"]}) {
    (*labels)["alertname"] = alertname;
  }
  body["commonLabels"]["service"] = service;
  for (auto& a : body["alerts"]) {
    a["labels"]["alertname"] = alertname;
    a["labels"]["service"] = service;
  }
  return body.dump();
}

class ReloadTest : public ::testing::Test {
 protected:
  ReloadTest() {
    write_file(dir.path() / "calloutd.yml", k_api_only);
    write_file(dir.path() / "token", "token-one\n");
  }
  std::unique_ptr<DaemonProcess> start(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), "--config.file=calloutd.yml");
    return std::make_unique<DaemonProcess>(dir.path(), extra);
  }
  std::filesystem::path repo() const { return dir.path() / "callouts"; }
  std::filesystem::path journal() const { return repo() / ".git" / "calloutd"; }
  // callout.md files committed under `technology`/.
  std::size_t callouts(const std::string& technology) const {
    return occurrences(git(repo(), "ls-tree -r --name-only main -- " + technology), "/callout.md");
  }
  static bool logged(const DaemonProcess& d, const std::string& line, std::size_t times = 1) {
    return testing::eventually(10, [&] { return occurrences(d.log(), line) >= times; });
  }

  const httplib::Headers bearer{{"Authorization", "Bearer token-one"}};
  TempDir dir;
};

TEST_F(ReloadTest, ASighupThatAddsARouteFilesTheNextAlertAndLosesNone) {
  auto d = start();
  ASSERT_EQ(d->post_alertmanager(alert("DbBefore", "db"), bearer)->status, 200);
  // Alerts of an existing route keep arriving while the configuration changes.
  constexpr int k_posts = 40;
  std::atomic<int> accepted{0};
  std::thread sender([&] {
    for (int i = 0; i < k_posts; ++i) {
      auto r = d->post_alertmanager(alert("Latency" + std::to_string(i), "api"), bearer);
      accepted += r && r->status == 200 ? 1 : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  write_file(dir.path() / "calloutd.yml", k_api_and_db);
  d->process().kill(SIGHUP);
  ASSERT_TRUE(logged(*d, "configuration reloaded")) << d->log();
  ASSERT_EQ(d->post_alertmanager(alert("DbAfter", "db"), bearer)->status, 200);
  sender.join();
  ASSERT_TRUE(testing::all_applied(journal())) << d->log();

  EXPECT_EQ(accepted, k_posts);
  EXPECT_EQ(callouts("api"), static_cast<std::size_t>(k_posts)) << "an alert was lost";
  // Before the reload the database's alert matched no route; after it, one.
  EXPECT_EQ(callouts("postgres"), 1u);
  EXPECT_NE(git(repo(), "ls-tree -r --name-only main -- postgres").find("db-after"),
            std::string::npos);
  auto scrape = d->client()->Get("/metrics", bearer)->body;
  EXPECT_EQ(metric(scrape, "calloutd_config_last_reload_successful"), 1);
  // The new technology is declared: its series are there at 0 from the reload on.
  EXPECT_NE(scrape.find("technology=\"postgres\""), std::string::npos);
}

TEST_F(ReloadTest, ABrokenFileIsRefusedWholeAndChangesNothing) {
  auto d = start();
  auto started = metric(d->client()->Get("/metrics", bearer)->body,
                        "calloutd_config_last_reload_success_timestamp_seconds");
  EXPECT_GT(started, 0);
  auto head = git(repo(), "rev-parse main");
  // A good route next to a bad one: nothing of the file may apply.
  write_file(dir.path() / "calloutd.yml", std::string(k_api_and_db) +
                                              "  - matchers: ['service=~\"(\"']\n"
                                              "    severity: P0\n");
  d->process().kill(SIGHUP);
  ASSERT_TRUE(logged(*d, "configuration not reloaded")) << d->log();
  EXPECT_NE(d->log().find("calloutd.yml:14"), std::string::npos) << d->log();
  EXPECT_NE(d->log().find("calloutd.yml:15"), std::string::npos) << d->log();
  EXPECT_EQ(git(repo(), "rev-parse main"), head);

  auto scrape = d->client()->Get("/metrics", bearer)->body;
  EXPECT_EQ(metric(scrape, "calloutd_config_last_reload_successful"), 0);
  EXPECT_EQ(metric(scrape, "calloutd_config_last_reload_success_timestamp_seconds"), started);
  ASSERT_EQ(d->post_alertmanager(alert("Db", "db"), bearer)->status, 200);
  ASSERT_EQ(d->post_alertmanager(alert("Latency", "api"), bearer)->status, 200);
  ASSERT_TRUE(testing::all_applied(journal())) << d->log();
  EXPECT_EQ(callouts("api"), 1u) << "the running configuration stays in force";
  EXPECT_EQ(callouts("postgres"), 0u) << "the broken file's route was applied";
}

// Issue 25: an emptied calloutd.yml at a reload turned authentication off
// with an info line. A reload that removes every credential is refused whole:
// the running credentials stay, and the log says a restart does that.
TEST_F(ReloadTest, AReloadThatRemovesEveryCredentialIsRefused) {
  auto d = start();
  std::size_t round = 0;
  for (const char* weaker : {"", "# emptied by a template\n", "repository:\n  path: callouts\n"}) {
    ++round;
    write_file(dir.path() / "calloutd.yml", weaker);
    d->process().kill(SIGHUP);
    ASSERT_TRUE(testing::eventually(10, [&] {  // taken or refused: the reload is done
      return occurrences(d->log(), "configuration reloaded") +
                 occurrences(d->log(), "configuration not reloaded") >=
             2 * round - 1;
    })) << d->log();
    auto unauthenticated = d->post_alertmanager(alert("Latency", "api"));
    ASSERT_TRUE(unauthenticated);
    EXPECT_EQ(unauthenticated->status, 401) << weaker;
    EXPECT_EQ(occurrences(d->log(), "turning authentication off takes a restart"), round);
    EXPECT_EQ(occurrences(d->log(), "configuration not reloaded"), round);
    auto scrape = d->client()->Get("/metrics", bearer)->body;
    EXPECT_EQ(metric(scrape, "calloutd_config_last_reload_successful"), 0) << weaker;
    // The running file again: a reload of it is taken (and told apart from the next refusal).
    write_file(dir.path() / "calloutd.yml", k_api_only);
    d->process().kill(SIGHUP);
    ASSERT_TRUE(logged(*d, "msg=\"configuration reloaded\"", round)) << d->log();
  }
}

TEST_F(ReloadTest, TheEndpointIsOffUnlessTheLifecycleFlagSaysSo) {
  auto d = start();
  auto r = d->client()->Post("/-/reload", bearer, "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("--web.enable-lifecycle"), std::string::npos) << r->body;
}

TEST_F(ReloadTest, TheEndpointAppliesCredentialsAndLimitsAndReportsRestartOnlySettings) {
  auto d = start({"--web.enable-lifecycle"});
  auto client = d->client();
  EXPECT_EQ(client->Get("/-/reload", bearer)->status, 405);
  EXPECT_EQ(client->Post("/-/reload", "", "text/plain")->status, 401);

  write_file(dir.path() / "calloutd.yml", std::string(k_api_only) + R"(
  - matchers: ['severity=']
    severity: urgent
)");
  auto refused = client->Post("/-/reload", bearer, "", "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 500);
  EXPECT_NE(json::parse(refused->body)["error"].get<std::string>().find("calloutd.yml:"),
            std::string::npos)
      << refused->body;

  // A new token, a smaller body limit, and settings only a restart applies.
  write_file(dir.path() / "token-two", "token-two\n");
  write_file(dir.path() / "calloutd.yml", R"(
repository:
  path: callouts
  branch: trunk
receivers:
  alertmanager:
    bearer_token_file: token-two
web:
  max_body_bytes: 4096
  max_connections: 64
routes:
  - matchers: ['service="api"']
    severity: HPI
    technology: api
)");
  auto reloaded = client->Post("/-/reload", bearer, "", "text/plain");
  ASSERT_TRUE(reloaded);
  ASSERT_EQ(reloaded->status, 200) << reloaded->body;
  EXPECT_EQ(json::parse(reloaded->body)["restart_needed"],
            json::array({"web.max_connections", "repository.branch"}))
      << reloaded->body;
  EXPECT_NE(d->log().find("restart_needed"), std::string::npos);

  const httplib::Headers two{{"Authorization", "Bearer token-two"}};
  EXPECT_EQ(d->post_alertmanager(R"({"version":"4"})", bearer)->status, 401);
  auto padded = json::parse(alert("Latency", "api"));
  padded["commonAnnotations"]["description"] = std::string(4096, 'x');
  EXPECT_EQ(d->post_alertmanager(padded.dump(), two)->status, 413);
  ASSERT_EQ(d->post_alertmanager(alert("Latency", "api"), two)->status, 200);
  ASSERT_TRUE(testing::all_applied(journal())) << d->log();
  // Committed on the branch the daemon started on.
  EXPECT_EQ(callouts("api"), 1u);
  EXPECT_EQ(git(repo(), "branch --list trunk"), "");
}

}  // namespace
}  // namespace calloutd
