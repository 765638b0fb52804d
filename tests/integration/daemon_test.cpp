// The daemon binary on 127.0.0.1, fed the sample webhooks over HTTP; the
// results are read back from the git repository with the git command line.
#include <gtest/gtest.h>
#include <signal.h>

#include <re2/re2.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "daemon/writeup/markdown.hpp"
#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::git;
using testing::metric;
using testing::read_file;
using testing::sample;
using testing::TempDir;
using testing::write_file;

constexpr const char* k_config = R"(
repository:
  path: callouts
receivers:
  alertmanager:
    bearer_token_file: token
    basic_auth:
      username: alertmanager
      password_file: password
routes:
  - matchers: ['severity=~"critical|page"']
    severity: MPI
  - matchers: ['severity="warning"', 'service="api"']
    severity: HPI
    technology: api
web:
  max_body_bytes: 65536
)";

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() {
    write_file(dir.path() / "calloutd.yml", k_config);
    write_file(dir.path() / "token", "example-bearer-token\n");
    write_file(dir.path() / "password", "example-password\n");
  }
  std::unique_ptr<DaemonProcess> start() {
    return std::make_unique<DaemonProcess>(dir.path(),
                                           std::vector<std::string>{"--config.file=calloutd.yml"});
  }
  std::filesystem::path repo() const { return dir.path() / "callouts"; }
  int commits() const {
    int status = 0;
    auto out = git(repo(), "rev-list --count main", &status);
    return status == 0 ? std::stoi(out) : 0;
  }
  // Waits until the branch holds `n` commits (the engine commits asynchronously).
  bool commits_reach(int n) const {
    return testing::eventually(10, [&] { return commits() >= n; });
  }

  const httplib::Headers bearer{{"Authorization", "Bearer example-bearer-token"}};
  TempDir dir;
};

TEST_F(DaemonTest, SamplesBecomeCommitsAndDuplicatesChangeNothing) {
  auto d = start();
  for (const char* name : {"am-0.25-firing-two-alerts.json", "am-0.25-firing-two-alerts.json",
                           "am-0.25-firing-group-one-alert-resolved.json",
                           "am-0.25-firing-group-one-alert-resolved.json"}) {
    auto r = d->post_alertmanager(sample(name), bearer);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["status"], "accepted");
  }
  ASSERT_TRUE(commits_reach(2));
  auto incidents = json::parse(d->client()->Get("/api/v1/incidents")->body)["incidents"];
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0]["folder"], "api/high-request-latency-2026-11-22");
  EXPECT_EQ(incidents[0]["severity"], "HPI");

  ASSERT_EQ(d->post_alertmanager(sample("am-0.25-resolved.json"), bearer)->status, 200);
  ASSERT_EQ(d->post_alertmanager(sample("am-0.25-resolved.json"), bearer)->status, 200);
  ASSERT_TRUE(commits_reach(3));
  EXPECT_TRUE(testing::eventually(5, [&] {
    return json::parse(d->client()->Get("/api/v1/incidents")->body)["incidents"].empty();
  }));
  EXPECT_EQ(git(repo(), "log --format=%s main"),
            "api/high-request-latency-2026-11-22: resolved\n"
            "api/high-request-latency-2026-11-22: 1 timeline entry\n"
            "api/high-request-latency-2026-11-22: opened (HPI)\n");
  auto callout = git(repo(), "show main:api/high-request-latency-2026-11-22/callout.md");
  EXPECT_EQ(markdown::key_text(callout, "Status"), "resolved");
  EXPECT_NE(
      git(repo(), "show main:api/high-request-latency-2026-11-22/postmortem.md").find("POSTMORTEM"),
      std::string::npos);
  // The daemon's working tree is clean for the engineers who use it.
  EXPECT_TRUE(testing::eventually(5, [&] { return git(repo(), "status --porcelain").empty(); }));
  EXPECT_NE(d->client()
                ->Get("/metrics")
                ->body.find(R"(calloutd_time_to_resolve_seconds_count{severity="HPI"} 1)"),
            std::string::npos);
  // Duplicates were applied as "unchanged" or answered as duplicates of an
  // applied notification (depending on how fast the first was applied),
  // never as commits.
  EXPECT_TRUE(testing::eventually(5, [&] {
    auto m = d->client()->Get("/metrics")->body;
    return metric(m, R"(calloutd_events_applied_total{outcome="unchanged"})") +
               metric(
                   m,
                   R"(calloutd_webhook_requests_total{outcome="duplicate",receiver="alertmanager"})") ==
           3;
  }));
}

// An HA peer's copy (same notification, its own externalURL) of what is
// already applied is answered without a journal write; anything newer for
// the group, or different, goes through the journal.
TEST_F(DaemonTest, CopiesOfAnAppliedNotificationAreAnsweredWithoutJournaling) {
  auto d = start();
  auto journal = repo() / ".git" / "calloutd" / "journal.jsonl";
  auto lines = [&] {
    auto text = read_file(journal);
    return std::count(text.begin(), text.end(), '\n');
  };
  auto firing = sample("am-0.25-firing-two-alerts.json");
  ASSERT_EQ(d->post_alertmanager(firing, bearer)->status, 200);
  ASSERT_TRUE(commits_reach(1));
  ASSERT_TRUE(testing::eventually(5, [&] {
    return !json::parse(d->client()->Get("/api/v1/incidents")->body)["incidents"].empty();
  }));
  auto journaled = lines();
  auto peer = json::parse(firing);
  peer["externalURL"] = "http://alertmanager-2.example.internal:9093";
  auto r = d->post_alertmanager(peer.dump(), bearer);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["duplicate_of"], 1) << r->body;
  EXPECT_EQ(lines(), journaled);
  // Not a copy: a changed annotation is journaled (and changes nothing).
  peer["alerts"][0]["annotations"]["summary"] = "something else";
  r = d->post_alertmanager(peer.dump(), bearer);
  EXPECT_FALSE(json::parse(r->body).contains("duplicate_of")) << r->body;
  EXPECT_EQ(lines(), journaled + 1);
  // The resolution is applied; the old firing copy after it is journaled
  // again (it is no longer the last applied) and changes nothing.
  ASSERT_EQ(d->post_alertmanager(sample("am-0.25-resolved.json"), bearer)->status, 200);
  ASSERT_TRUE(commits_reach(2));
  ASSERT_TRUE(testing::eventually(5, [&] {
    return json::parse(d->client()->Get("/api/v1/incidents")->body)["incidents"].empty();
  }));
  r = d->post_alertmanager(firing, bearer);
  EXPECT_FALSE(json::parse(r->body).contains("duplicate_of")) << r->body;
  EXPECT_EQ(lines(), journaled + 3);
  // Applied (the positive signal), and still no third commit.
  ASSERT_TRUE(testing::all_applied(repo() / ".git" / "calloutd"));
  EXPECT_EQ(commits(), 2);
  EXPECT_NE(
      d->client()
          ->Get("/metrics")
          ->body.find(
              R"(calloutd_webhook_requests_total{outcome="duplicate",receiver="alertmanager"} 1)"),
      std::string::npos);
}

TEST_F(DaemonTest, BadInputGetsAClearErrorAndWritesNothing) {
  auto d = start();
  struct Case {
    std::string body;
    httplib::Headers headers;
    int status;
    std::string error;
  };
  std::vector<Case> cases{
      {"{not json", bearer, 400, "not an Alertmanager webhook: body is not valid JSON"},
      {R"({"version":"4","receiver":"r"})", bearer, 400,
       "not an Alertmanager webhook: status: missing"},
      {sample("am-0.25-firing-two-alerts.json"),
       {},
       401,
       "missing or wrong credentials for the alertmanager receiver"},
      {sample("am-0.25-firing-two-alerts.json"),
       {{"Authorization", "Bearer wrong"}},
       401,
       "missing or wrong credentials for the alertmanager receiver"},
      {sample("am-0.25-firing-two-alerts.json"),
       {{"Authorization", "Basic YWxlcnRtYW5hZ2VyOndyb25n"}},  // alertmanager:wrong
       401,
       "missing or wrong credentials for the alertmanager receiver"},
      {std::string(70000, ' '), bearer, 413,
       "request body too large (web.max_body_bytes is 65536)"},
  };
  for (const auto& c : cases) {
    auto r = d->post_alertmanager(c.body, c.headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << c.error;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(json::parse(r->body)["error"], c.error);
  }
  EXPECT_EQ(d->client()->Get("/nope")->status, 404);
  // Nothing reached the journal or the repository.
  EXPECT_EQ(commits(), 0);
  EXPECT_EQ(read_file(repo() / ".git/calloutd/journal.jsonl"), "");
  auto metrics = d->client()->Get("/metrics")->body;
  EXPECT_NE(
      metrics.find(
          R"(calloutd_webhook_requests_total{outcome="unauthorized",receiver="alertmanager"} 3)"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          R"(calloutd_webhook_requests_total{outcome="bad_request",receiver="alertmanager"} 2)"),
      std::string::npos);
  EXPECT_NE(
      metrics.find(
          R"(calloutd_webhook_requests_total{outcome="too_large",receiver="alertmanager"} 1)"),
      std::string::npos);
  // Basic auth as Alertmanager sends it (alertmanager:example-password) is accepted.
  auto ok =
      d->post_alertmanager(sample("am-0.34-format-firing-nested-route-ADAPTED.json"),
                           {{"Authorization", "Basic YWxlcnRtYW5hZ2VyOmV4YW1wbGUtcGFzc3dvcmQ="}});
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(commits_reach(1));
}

TEST_F(DaemonTest, HostileLabelsStayInsideTheRepositoryAndTheMarkdown) {
  auto d = start();
  json body = json::parse(sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
  for (auto& a : body["alerts"]) {
    a["labels"]["alertname"] = "../../etc/Pass wd\n# Owned";
    a["labels"]["technology"] = "../.git/hooks";
    a["labels"]["evil"] = "a | b\n## heading <script>x</script>";
    a["annotations"]["summary"] = "line1\n# injected\n|x|";
  }
  body["groupLabels"]["alertname"] = "../../etc/Pass wd\n# Owned";
  body["commonLabels"]["alertname"] = "../../etc/Pass wd\n# Owned";
  body["commonLabels"]["technology"] = "../.git/hooks";
  body["commonAnnotations"]["summary"] = "line1\n# injected\n|x|";
  ASSERT_EQ(d->post_alertmanager(body.dump(), bearer)->status, 200);
  ASSERT_TRUE(commits_reach(1));
  auto files = git(repo(), "ls-tree -r --name-only main");
  EXPECT_EQ(files.substr(files.find('\n') + 1),
            "README.md\n"
            "git-hooks/etc-pass-wd-owned-2026-11-22/callout.md\n"
            "git-hooks/etc-pass-wd-owned-2026-11-22/postmortem.md\n");
  // The index links the folder by its slug; nothing of the labels leaks into it.
  auto index = git(repo(), "show main:README.md");
  EXPECT_NE(index.find("[git-hooks/etc-pass-wd-owned-2026-11-22](git-hooks/"
                       "etc-pass-wd-owned-2026-11-22/callout.md)"),
            std::string::npos)
      << index;
  EXPECT_EQ(index.find("<script>"), std::string::npos);
  EXPECT_EQ(index.find("# Owned"), std::string::npos);
  auto callout = git(repo(), "show main:git-hooks/etc-pass-wd-owned-2026-11-22/callout.md");
  auto headings = markdown::headings(callout);
  EXPECT_EQ(headings.size(), 14u);
  EXPECT_EQ(headings[0], "line1 # injected |x| - CALLOUT - 2026-11-22");
  EXPECT_EQ(callout.find("<script>"), std::string::npos);
  EXPECT_NE(callout.find("| a \\| b \\#\\# heading \\<script\\>x\\</script\\> |"),
            std::string::npos)
      << callout;
}

TEST_F(DaemonTest, HealthReadinessAndPrometheusExposition) {
  auto d = start();
  EXPECT_EQ(d->client()->Get("/-/healthy")->status, 200);
  EXPECT_EQ(d->client()->Get("/-/ready")->status, 200);
  ASSERT_EQ(d->post_alertmanager(sample("am-0.34-format-firing-nested-route-ADAPTED.json"), bearer)
                ->status,
            200);
  ASSERT_TRUE(commits_reach(1));
  std::string metrics;
  ASSERT_TRUE(testing::eventually(5, [&] {
    metrics = d->client()->Get("/metrics")->body;
    return metrics.find(R"(calloutd_incidents_open{severity="MPI",technology="unclassified"} 1)") !=
           std::string::npos;
  })) << metrics;
  EXPECT_NE(metrics.find("calloutd_webhook_to_commit_seconds_count 1"), std::string::npos);
  EXPECT_NE(metrics.find("calloutd_git_commits_total 1"), std::string::npos);
  testing::write_file(dir.path() / "metrics.txt", metrics);
  int status = 0;
  auto out = testing::run(
      "promtool check metrics < '" + (dir.path() / "metrics.txt").string() + "' 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "");
}

// Before any event, every headline series a panel or rule reads is there at
// 0 for the label values known in advance (the config's technologies api and
// unclassified), with the build and the process as client libraries show them.
TEST_F(DaemonTest, FirstScrapeShowsZerosBuildInfoAndProcessMetrics) {
  auto d = start();
  auto metrics = d->client()->Get("/metrics")->body;
  for (const char* series : {
           R"(calloutd_incidents_open{severity="MPI",technology="unclassified"} 0)",
           R"(calloutd_incidents_open{severity="HPI",technology="api"} 0)",
           R"(calloutd_action_items_open{technology="api",type="mitigate"} 0)",
           R"(calloutd_action_items_overdue{technology="unclassified",type="other"} 0)",
           R"(calloutd_callouts_total{issue="",technology="api"} 0)",
       }) {
    EXPECT_NE(metrics.find(std::string("\n") + series + "\n"), std::string::npos) << series << "\n"
                                                                                  << metrics;
  }
  EXPECT_TRUE(RE2::PartialMatch(
      metrics,
      R"(\ncalloutd_build_info\{libgit2="\d+\.\d+\.\d+",revision="[^"]+",version="\d+\.\d+\.\d+"\} 1\n)"))
      << metrics;
  EXPECT_GT(metric(metrics, "process_resident_memory_bytes"), 0) << metrics;
  EXPECT_GT(metric(metrics, "process_virtual_memory_bytes"), 0) << metrics;
  EXPECT_GT(metric(metrics, "process_open_fds"), 0) << metrics;
  EXPECT_GT(metric(metrics, "process_max_fds"), 0) << metrics;
  EXPECT_GT(metric(metrics, "process_start_time_seconds"), 1.7e9) << metrics;
  EXPECT_NE(metrics.find("\nprocess_cpu_seconds_total "), std::string::npos) << metrics;
  testing::write_file(dir.path() / "metrics.txt", metrics);
  int status = 0;
  auto out = testing::run(
      "promtool check metrics < '" + (dir.path() / "metrics.txt").string() + "' 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "");
}

// A second calloutd on a port the first one holds must not start: with
// SO_REUSEPORT the kernel would split webhooks between the two daemons and
// their repositories.
TEST_F(DaemonTest, APortAnotherDaemonHoldsIsRefusedAtStart) {
  auto first = start();
  int status = 0;
  auto out =
      testing::run("cd '" + dir.path().string() + "' && timeout 20 '" + testing::calloutd_binary() +
                       "' --config.file=calloutd.yml --repo.path=second "
                       "--web.listen-address=127.0.0.1:" +
                       std::to_string(first->port()) + " 2>&1",
                   &status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("msg=\"cannot serve HTTP\" error=\"cannot listen on \\\"127.0.0.1:" +
                     std::to_string(first->port()) + "\\\": Address already in use\""),
            std::string::npos)
      << out;
  // The first daemon still answers every request.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(first->client()->Get("/-/healthy")->status, 200);
  }
}

TEST_F(DaemonTest, SigtermDrainsAcceptedEventsAndExitsCleanly) {
  auto d = start();
  ASSERT_EQ(d->post_alertmanager(sample("am-0.34-format-firing-nested-route-ADAPTED.json"), bearer)
                ->status,
            200);
  d->process().kill(SIGTERM);
  EXPECT_EQ(d->process().wait(10), 0) << d->log();
  EXPECT_EQ(commits(), 1);
  EXPECT_NE(d->log().find("stopped cleanly"), std::string::npos);
}

TEST_F(DaemonTest, EngineersEditsInTheWorkingTreeSurvive) {
  auto d = start();
  ASSERT_EQ(d->post_alertmanager(sample("am-0.25-firing-two-alerts.json"), bearer)->status, 200);
  ASSERT_TRUE(commits_reach(1));
  auto path = repo() / "api/high-request-latency-2026-11-22/callout.md";
  // The working tree follows the branch just after the commit.
  ASSERT_TRUE(testing::eventually(5, [&] {
    return std::filesystem::exists(path) && git(repo(), "status --porcelain").empty();
  }));
  // A committed edit of the Summary, then an uncommitted note in the timeline.
  auto text = read_file(path);
  write_file(path, markdown::set_key(text, "Summary",
                                     "api service is creating latency failures due to GC pauses"));
  int status = 0;
  git(repo(), "-c user.name=Engineer -c user.email=e@example.com commit -qam 'summary by hand'",
      &status);
  ASSERT_EQ(status, 0);
  text = read_file(path);
  std::string note = "Heap dump taken; GC tuned.";
  write_file(path, markdown::set_key(text, "Overview of actions taken", note));

  ASSERT_EQ(
      d->post_alertmanager(sample("am-0.25-firing-group-one-alert-resolved.json"), bearer)->status,
      200);
  ASSERT_TRUE(commits_reach(3));
  auto committed = git(repo(), "show main:api/high-request-latency-2026-11-22/callout.md");
  EXPECT_EQ(markdown::key_text(committed, "Summary"),
            "api service is creating latency failures due to GC pauses");
  EXPECT_NE(committed.find("(instance=api-1:8080) resolved"), std::string::npos);
  EXPECT_EQ(committed.find(note), std::string::npos);  // still uncommitted...
  // The working tree takes the daemon's change just after the commit moves
  // the branch: wait for it there.
  std::string worktree;
  EXPECT_TRUE(testing::eventually(5,
                                  [&] {
                                    worktree = read_file(path);
                                    return worktree.find("(instance=api-1:8080) resolved") !=
                                           std::string::npos;
                                  }))
      << worktree << "\n"
      << d->log();
  EXPECT_EQ(markdown::key_text(worktree, "Overview of actions taken"),
            note);  // ...and in the working tree
  EXPECT_EQ(git(repo(), "log --format=%s -1 main"),
            "api/high-request-latency-2026-11-22: 1 timeline entry\n");
}

}  // namespace
}  // namespace calloutd
