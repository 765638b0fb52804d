#include "daemon/engine/engine.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"
#include "daemon/writeup/repo_index.hpp"
#include "receivers/alertmanager.hpp"
#include "tests/support/edits.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;

using testing::apply_edits;
using testing::edit_by_hand;
using testing::FakeRepository;

Event event(const std::string& body, const char* received = "2026-11-22T03:50:00Z") {
  auto g = receivers::parse_alertmanager(body);
  EXPECT_TRUE(g) << g.error();
  return Event{1, at(received), *g};
}

Event sample_event(const char* name, const char* received = "2026-11-22T03:50:00Z") {
  return event(testing::sample(name), received);
}

// Shifts every time in a sample body, to make a later occurrence of the same group.
std::string shifted(std::string body, const std::string& from, const std::string& to) {
  for (auto pos = body.find(from); pos != std::string::npos;
       pos = body.find(from, pos + to.size())) {
    body.replace(pos, from.size(), to);
  }
  return body;
}

std::vector<Route> test_routes() {
  LoadedConfig c = parse_config(R"(
routes:
  - matchers: ['severity=~"critical|page"']
    severity: MPI
  - matchers: ['severity="warning"', 'service="api"']
    severity: HPI
    technology: api
  - matchers: ['severity="warning"', 'team="batch"']
    severity: HPI
    dashboard_url_template: "https://grafana.example/d/backup?var-job={{job}}"
)",
                                "t.yml", "/");
  EXPECT_TRUE(c.errors.empty());
  return c.config.routes;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() { config.routes = test_routes(); }

  Config config;
  FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  const std::string api = "api/high-request-latency-2026-11-22/callout.md";
};

TEST_F(EngineTest, OpensCalloutAndPostmortemForCriticalAlert) {
  auto r = engine.apply(sample_event("am-0.34-format-firing-nested-route-ADAPTED.json"));
  EXPECT_EQ(r.outcome, Outcome::opened);
  EXPECT_EQ(r.folder, "unclassified/postgres-replication-lag-2026-11-22");
  ASSERT_EQ(repo.commit_count(), 1u);
  EXPECT_EQ(repo.messages[0].substr(0, repo.messages[0].find('\n')),
            "unclassified/postgres-replication-lag-2026-11-22: opened (MPI)");
  auto callout = repo.file(r.folder + "/callout.md");
  EXPECT_EQ(callout.substr(0, callout.find('\n')),
            "# Replication lag above 30s - CALLOUT - 2026-11-22");
  EXPECT_EQ(markdown::key_text(callout, "Severity"), "MPI");
  EXPECT_EQ(markdown::key_text(callout, "Status"), "active");
  EXPECT_EQ(markdown::key_text(callout, "Incident Number"), r.incident_id);
  EXPECT_NE(callout.find("| PostgresReplicationLag | eu-1 | pg-replica-2:9187 | critical | db |"),
            std::string::npos);
  EXPECT_NE(
      callout.find(
          "- 2026-11-22 03:46:06 UTC - Alertmanager - PostgresReplicationLag firing (2 alerts); "
          "callout opened as MPI\n"),
      std::string::npos);
  // No dashboard annotation or route template: the generatorURL, labelled as the alert source.
  EXPECT_NE(
      callout.find(
          "- Dashboard: [Alert source (Prometheus graph)](http://prometheus.example.internal:9090/"
          "graph?g0.expr=pg_replication_lag+%3E+30&g0.tab=1)"),
      std::string::npos);
  EXPECT_FALSE(repo.file(r.folder + "/postmortem.md").empty());
  EXPECT_EQ(engine.open_incidents().size(), 1u);
}

TEST_F(EngineTest, SameNotificationAgainChangesNothingWhateverTheGroupKey) {
  auto first = engine.apply(sample_event("am-0.34-format-firing-nested-route-ADAPTED.json"));
  ASSERT_EQ(first.outcome, Outcome::opened);
  auto again = engine.apply(
      sample_event("am-0.34-format-firing-nested-route-ADAPTED.json", "2026-11-22T07:50:00Z"));
  EXPECT_EQ(again.outcome, Outcome::unchanged);
  // An HA peer formatting groupKey differently is still the same group.
  auto body = testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json");
  body = shifted(body, R"(alertname=\"PostgresReplicationLag\", cluster=\"eu-1\")",
                 R"(cluster=\"eu-1\",alertname=\"PostgresReplicationLag\")");
  EXPECT_EQ(engine.apply(event(body)).outcome, Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), 1u);
}

TEST_F(EngineTest, LifecycleBecomesTimelineEntriesAndStatus) {
  EXPECT_EQ(engine.apply(sample_event("am-0.25-firing-two-alerts.json")).outcome, Outcome::opened);
  auto r = engine.apply(sample_event("am-0.25-firing-group-one-alert-resolved.json"));
  EXPECT_EQ(r.outcome, Outcome::updated);
  EXPECT_EQ(engine.apply(sample_event("am-0.25-firing-group-one-alert-resolved.json")).outcome,
            Outcome::unchanged);
  EXPECT_EQ(engine.apply(sample_event("am-0.25-resolved.json")).outcome, Outcome::updated);
  EXPECT_EQ(engine.apply(sample_event("am-0.25-resolved.json")).outcome, Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), 3u);
  auto callout = repo.file(api);
  EXPECT_EQ(markdown::key_text(callout, "Status"), "resolved");
  EXPECT_EQ(markdown::key_text(callout, "Severity"), "HPI");
  auto timeline = callout.substr(callout.find("## Incident timeline"));
  timeline = timeline.substr(0, timeline.find("## Supporting"));
  EXPECT_EQ(timeline,
            "## Incident timeline\n\n"
            "- 2026-11-22 03:48:01 UTC - Alertmanager - HighRequestLatency (instance=api-2:8080), "
            "the last alert of the group, resolved; open for 2m9s (target 24h), not acknowledged "
            "(target 1h); Status set "
            "to resolved\n"
            "- 2026-11-22 03:47:56 UTC - Alertmanager - HighRequestLatency (instance=api-1:8080) "
            "resolved\n"
            "- 2026-11-22 03:45:52 UTC - Alertmanager - HighRequestLatency firing (2 alerts); "
            "callout opened as HPI\n\n");
  // What the daemon owns is current after the resolution.
  EXPECT_NE(callout.find("\n- All alerts of the group resolved - DONE (2026-11-22 03:48:01 UTC)\n"),
            std::string::npos)
      << callout;
  EXPECT_NE(callout.find("\n- Next Incident Lead: n/a\n"), std::string::npos) << callout;
  EXPECT_NE(callout.find("\nLast updated by calloutd at " +
                         format_utc(sample_event("am-0.25-resolved.json").received_at) + ".\n"),
            std::string::npos)
      << callout;
  EXPECT_TRUE(engine.open_incidents().empty());
  EXPECT_EQ(repo.messages[2].substr(0, repo.messages[2].find('\n')),
            "api/high-request-latency-2026-11-22: resolved");
}

// The firing sample as a group of `count` alerts (instance=api-<i>), of which
// those below `resolved` have resolved at 03:50:00.
std::string big_group(int count, int resolved) {
  auto body = nlohmann::json::parse(testing::sample("am-0.25-firing-two-alerts.json"));
  auto first = body["alerts"][0];
  body["alerts"] = nlohmann::json::array();
  for (int i = 0; i < count; ++i) {
    auto a = first;
    a["labels"]["instance"] = "api-" + std::to_string(i);
    a["fingerprint"] = "fp" + std::to_string(i);
    if (i < resolved) {
      a["status"] = "resolved";
      a["endsAt"] = "2026-11-22T03:50:00Z";
    }
    body["alerts"].push_back(a);
  }
  body["status"] = resolved == count ? "resolved" : "firing";
  return body.dump();
}

// Issue 26: a 4,000-alert group half resolving wrote 2,000 entries, each a
// parse of the whole callout (20 s on the engine's strand). Past 20 alerts a
// notification's alerts are counted in one line, and every alert is still
// known to the state.
TEST_F(EngineTest, AGroupOfThousandsKeepsItsCalloutShort) {
  ASSERT_EQ(engine.apply(event(big_group(4000, 0))).outcome, Outcome::opened);
  ASSERT_EQ(engine.apply(event(big_group(4000, 2000), "2026-11-22T03:51:00Z")).outcome,
            Outcome::updated);
  auto callout = repo.file(api);
  EXPECT_LT(callout.size(), 20000u);
  EXPECT_NE(callout.find("- 2026-11-22 03:50:00 UTC - Alertmanager - 1980 further alerts of the "
                         "group resolved (the alert source lists each)\n"),
            std::string::npos)
      << callout;
  EXPECT_EQ(testing::occurrences(callout, ") resolved\n"), 20u);
  ASSERT_EQ(engine.apply(event(big_group(4000, 4000), "2026-11-22T03:52:00Z")).outcome,
            Outcome::updated);
  callout = repo.file(api);
  EXPECT_EQ(markdown::key_text(callout, "Status"), "resolved");
  EXPECT_NE(callout.find(" and 1980 other alerts, the last alerts of the group, resolved; "),
            std::string::npos)
      << callout;
  EXPECT_LT(callout.size(), 30000u);
}

TEST_F(EngineTest, NewAlertJoiningTheGroupIsAnEntry) {
  auto two = testing::sample("am-0.25-firing-two-alerts.json");
  // The first notification held only api-1.
  auto one =
      two.substr(
          0,
          two.find(
              R"(,{"status":"firing","labels":{"alertname":"HighRequestLatency","instance":"api-2)")) +
      two.substr(two.find(R"(],"groupLabels")"));
  ASSERT_EQ(engine.apply(event(one)).outcome, Outcome::opened);
  ASSERT_EQ(engine.apply(event(two)).outcome, Outcome::updated);
  EXPECT_NE(
      repo.file(api).find(
          "- 2026-11-22 03:45:52 UTC - Alertmanager - HighRequestLatency (instance=api-2:8080) "
          "firing: High request latency on api-2:8080\n"),
      std::string::npos);
}

TEST_F(EngineTest, StaleNotificationFromALaggingPeerDoesNotReopen) {
  engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  engine.apply(sample_event("am-0.25-firing-group-one-alert-resolved.json"));
  engine.apply(sample_event("am-0.25-resolved.json"));
  auto stale = engine.apply(sample_event("am-0.25-firing-two-alerts.json", "2026-11-22T03:55:00Z"));
  EXPECT_EQ(stale.outcome, Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), 3u);
}

TEST_F(EngineTest, FiringAgainReopensWithinTheWindowAndOpensANewCalloutAfter) {
  engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  engine.apply(sample_event("am-0.25-resolved.json", "2026-11-22T03:50:00Z"));
  auto refire = shifted(testing::sample("am-0.25-firing-two-alerts.json"),
                        "2026-11-22T03:45:52.038Z", "2026-11-22T04:10:00Z");
  auto reopened = engine.apply(event(refire, "2026-11-22T04:10:05Z"));
  EXPECT_EQ(reopened.outcome, Outcome::reopened);
  EXPECT_EQ(reopened.folder, "api/high-request-latency-2026-11-22");
  EXPECT_EQ(markdown::key_text(repo.file(api), "Status"), "active");
  EXPECT_NE(
      repo.file(api).find(
          "- 2026-11-22 04:10:00 UTC - Alertmanager - HighRequestLatency (instance=api-1:8080) "
          "firing again within the reopen window (1h); callout reopened\n"),
      std::string::npos);
  // The exit criterion ticked at the resolution is open again.
  EXPECT_NE(repo.file(api).find("\n- All alerts of the group resolved - TODO\n"), std::string::npos)
      << repo.file(api);
  EXPECT_NE(repo.file(api).find("\nLast updated by calloutd at 2026-11-22 04:10:05 UTC.\n"),
            std::string::npos);

  engine.apply(event(shifted(testing::sample("am-0.25-resolved.json"), "2026-11-22T03:45:52.038Z",
                             "2026-11-22T04:10:00Z"),
                     "2026-11-22T04:20:00Z"));
  auto later = shifted(testing::sample("am-0.25-firing-two-alerts.json"),
                       "2026-11-22T03:45:52.038Z", "2026-11-22T06:00:00Z");
  auto fresh = engine.apply(event(later, "2026-11-22T06:00:05Z"));
  EXPECT_EQ(fresh.outcome, Outcome::opened);
  EXPECT_EQ(fresh.folder, "api/high-request-latency-2026-11-22-2");
  EXPECT_NE(fresh.incident_id, reopened.incident_id);
  auto callout = repo.file(fresh.folder + "/callout.md");
  EXPECT_NE(callout.find("### Previous occurrences\n\n- [api/high-request-latency-2026-11-22]"
                         "(../high-request-latency-2026-11-22/callout.md)\n"),
            std::string::npos)
      << callout;
}

TEST_F(EngineTest, TruncatedAlertsAreRecorded) {
  auto r = engine.apply(sample_event("am-0.25-firing-truncated-max-alerts-2.json"));
  ASSERT_EQ(r.outcome, Outcome::opened);
  auto callout = repo.file(r.folder + "/callout.md");
  EXPECT_NE(
      callout.find(
          "Alertmanager left 3 further alerts of the group out of the notification (max\\_alerts); "
          "the alert source lists every alert"),
      std::string::npos);
  // Route template for the dashboard, placeholders from labels.
  EXPECT_NE(
      callout.find("- Dashboard: [Dashboard](https://grafana.example/d/backup?var-job=backup)"),
      std::string::npos);
  EXPECT_EQ(engine.apply(sample_event("am-0.25-firing-truncated-max-alerts-2.json")).outcome,
            Outcome::unchanged);
}

TEST_F(EngineTest, DashboardAnnotationWinsOverRouteTemplate) {
  auto body = testing::sample("am-0.25-firing-truncated-max-alerts-2.json");
  body = shifted(body, R"("commonAnnotations":{})",
                 R"("commonAnnotations":{"dashboard":"https://grafana.example/d/own"})");
  auto r = engine.apply(event(body));
  EXPECT_NE(repo.file(r.folder + "/callout.md")
                .find("- Dashboard: [Dashboard](https://grafana.example/d/own)"),
            std::string::npos);
}

TEST_F(EngineTest, UnroutedAlertsAreIgnored) {
  auto body = shifted(testing::sample("am-0.25-firing-two-alerts.json"), R"("service":"api")",
                      R"("service":"web")");
  EXPECT_EQ(engine.apply(event(body)).outcome, Outcome::ignored);
  EXPECT_EQ(repo.commit_count(), 0u);
}

TEST_F(EngineTest, EngineersCommitInBetweenIsKeptAndRetried) {
  engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  repo.before_commit = [&] {
    auto text = repo.file(api);
    text = markdown::set_key(text, "Summary",
                             "api service is creating latency failures due to a slow disk");
    text = markdown::add_list_entry(text, "Incident timeline", at("2026-11-22T03:47:00Z"),
                                    "2026-11-22 03:47:00 UTC - Operations - disk replaced",
                                    markdown::Order::newest_first);
    repo.commit_by_hand(api, text);
  };
  auto r = engine.apply(sample_event("am-0.25-firing-group-one-alert-resolved.json"));
  EXPECT_EQ(r.outcome, Outcome::updated);
  auto callout = repo.file(api);
  EXPECT_EQ(markdown::key_text(callout, "Summary"),
            "api service is creating latency failures due to a slow disk");
  auto resolved = callout.find("(instance=api-1:8080) resolved");
  auto by_hand = callout.find("Operations - disk replaced");
  ASSERT_NE(resolved, std::string::npos);
  ASSERT_NE(by_hand, std::string::npos);
  EXPECT_LT(resolved, by_hand);  // 03:47:56 is newer than 03:47:00
  EXPECT_EQ(repo.commit_count(), 3u);
}

TEST_F(EngineTest, StateSurvivesARestart) {
  engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  Engine restarted(config, repo, templates);
  restarted.load();
  EXPECT_EQ(restarted.open_incidents().size(), 1u);
  EXPECT_EQ(restarted.apply(sample_event("am-0.25-firing-two-alerts.json")).outcome,
            Outcome::unchanged);
  EXPECT_EQ(restarted.apply(sample_event("am-0.25-resolved.json")).outcome, Outcome::updated);
  EXPECT_TRUE(restarted.open_incidents().empty());
}

TEST_F(EngineTest, DeletedCalloutIsWrittenAgainRatherThanLosingTheEvent) {
  engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  repo.remove_by_hand(api);
  auto r = engine.apply(sample_event("am-0.25-resolved.json"));
  EXPECT_EQ(r.outcome, Outcome::updated);
  EXPECT_EQ(markdown::key_text(repo.file(api), "Status"), "resolved");
}

// A symlink (or a file) committed where the technology folder goes: the
// callout goes to "<technology>-calloutd", the first such name that is safe,
// and the same event lands there however often it is computed again.
TEST_F(EngineTest, UnsafeTechnologyFolderGetsASafeFolder) {
  repo.commit_by_hand("api", "/elsewhere");           // how the fake keeps a symlink
  repo.commit_by_hand("api-calloutd", "/elsewhere");  // the first alternative, unsafe too
  repo.before_commit = [&] { repo.commit_by_hand("notes.md", "an engineer's commit\n"); };
  auto r = engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  EXPECT_EQ(r.outcome, Outcome::opened);
  EXPECT_EQ(r.folder, "api-calloutd-2/high-request-latency-2026-11-22");
  EXPECT_EQ(r.unsafe_paths, (std::vector<std::string>{"api", "api-calloutd"}));
  EXPECT_NE(repo.file(r.folder + "/callout.md").find("CALLOUT"), std::string::npos);
  EXPECT_EQ(repo.file("api"), "/elsewhere");
  // Replayed after a restart: nothing new; the group's next event, same folder.
  Engine restarted(config, repo, templates);
  restarted.load();
  EXPECT_EQ(restarted.apply(sample_event("am-0.25-firing-two-alerts.json")).outcome,
            Outcome::unchanged);
  auto next = restarted.apply(sample_event("am-0.25-resolved.json"));
  EXPECT_EQ(next.folder, r.folder);
  EXPECT_TRUE(next.unsafe_paths.empty());
  EXPECT_EQ(markdown::key_text(repo.file(r.folder + "/callout.md"), "Status"), "resolved");
}

// The folder of an open callout replaced by a symlink: the callout moves to
// the next free name rather than being written through it.
TEST_F(EngineTest, CalloutFolderReplacedByASymlinkMovesToTheNextName) {
  engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  const std::string folder = "api/high-request-latency-2026-11-22";
  repo.remove_by_hand(folder + "/callout.md");
  repo.remove_by_hand(folder + "/postmortem.md");
  repo.commit_by_hand(folder, "/elsewhere");
  auto r = engine.apply(sample_event("am-0.25-resolved.json"));
  EXPECT_EQ(r.outcome, Outcome::updated);
  EXPECT_EQ(r.folder, folder + "-2");
  EXPECT_EQ(r.unsafe_paths, std::vector<std::string>{folder});
  EXPECT_EQ(markdown::key_text(repo.file(r.folder + "/callout.md"), "Status"), "resolved");
  EXPECT_NE(repo.file(r.folder + "/postmortem.md").find("POSTMORTEM"), std::string::npos);
  EXPECT_EQ(repo.file(folder), "/elsewhere");
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

TEST_F(EngineTest, ResolvingSeedsThePostmortemAndPinsTheGrafanaRange) {
  auto firing =
      nlohmann::json::parse(testing::sample("am-0.25-firing-truncated-max-alerts-2.json"));
  auto opened = engine.apply(event(firing.dump(), "2026-11-22T03:46:10Z"));
  ASSERT_EQ(opened.outcome, Outcome::opened);
  auto resolved = firing;
  resolved["status"] = "resolved";
  for (auto& a : resolved["alerts"]) {
    a["status"] = "resolved";
    a["endsAt"] = "2026-11-22T04:16:06.524Z";
  }
  ASSERT_EQ(engine.apply(event(resolved.dump(), "2026-11-22T04:16:10Z")).outcome, Outcome::updated);
  auto pm = repo.file(opened.folder + "/postmortem.md");
  auto timeline = pm.substr(pm.find("## Timeline"));
  timeline = timeline.substr(0, timeline.find("## Supporting"));
  auto first = timeline.find("03:46:06 UTC - Alertmanager - BackupJobFailed firing (2 alerts)");
  auto last = timeline.find(
      "04:16:06 UTC - Alertmanager - BackupJobFailed (shard=1) and BackupJobFailed (shard=2), the "
      "last alerts of the group, resolved; open for 30m (target 24h), not acknowledged (target "
      "1h)\n");
  ASSERT_NE(first, std::string::npos) << timeline;
  ASSERT_NE(last, std::string::npos) << timeline;
  EXPECT_LT(first, last);  // oldest first
  // One entry for the resolution, none of the callout's bookkeeping.
  EXPECT_EQ(std::count(timeline.begin(), timeline.end(), '\n'), 2 + 3 + 1) << timeline;
  EXPECT_EQ(timeline.find("Status set to"), std::string::npos) << timeline;
  EXPECT_EQ(timeline.find("callout opened as"), std::string::npos) << timeline;
  // 15 minutes before the first alert (03:46:06.524) to 15 minutes after the
  // last one ended (04:16:06.524), in Unix milliseconds.
  EXPECT_NE(pm.find("- Dashboard: [Dashboard (incident time "
                    "range)](https://grafana.example/d/backup?var-job=backup"
                    "&from=1795318266524&to=1795321866524)"),
            std::string::npos)
      << pm;
  // Resolving again after a reopen adds only what is new.
  auto again = engine.apply(event(resolved.dump(), "2026-11-22T04:20:00Z"));
  EXPECT_EQ(again.outcome, Outcome::unchanged);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// The on-call rota pre-fills Operations and Secondary when a callout opens.
TEST_F(EngineTest, RotaPrefillsOperationsAndSecondaryAtOpen) {
  auto loaded = parse_config(R"(rota:
  - name: apis
    technologies: [api]
    time_zone: Europe/London
    start: 2026-11-16
    handover_at: "09:00"
    every: 1d
    primary: [Ana Diaz, Ben Ode]
  - name: everything else
    start: 2026-11-16
    primary: [Cai Lu]
)",
                             "t.yml", ".");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  config.rotas = loaded.config.rotas;
  // 03:50 UTC on the 22nd is before 09:00 local: the 21st's turn (5 days in: Ben).
  auto r = engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  ASSERT_EQ(r.outcome, Outcome::opened);
  auto callout = repo.file(r.folder + "/callout.md");
  EXPECT_NE(callout.find("- Operations: Ben Ode\n"), std::string::npos) << callout;
  EXPECT_NE(callout.find("- Secondary: Ana Diaz\n"), std::string::npos) << callout;
  EXPECT_NE(callout.find("- 2026-11-22 03:50:00 UTC - on-call rota - Operations and Secondary "
                         "pre-filled from the on-call rota \"apis\" (see Team roles)\n"),
            std::string::npos)
      << callout;
  auto stats = engine.responder_stats(at("2026-11-22T04:00:00Z"));
  EXPECT_EQ(stats.on_shift_by_role,
            (std::map<std::string, int>{{"Operations", 1}, {"Secondary", 1}}));
  // With a Secondary there, the 4-hour rule has nothing to say.
  auto commits = repo.commit_count();
  engine.check_work_limits(at("2026-11-22T09:00:00Z"));
  EXPECT_EQ(repo.commit_count(), commits);

  // Another technology falls to the catch-all rota, which has nobody second.
  auto other = engine.apply(sample_event("am-0.34-format-firing-nested-route-ADAPTED.json"));
  ASSERT_EQ(other.outcome, Outcome::opened);
  callout = repo.file(other.folder + "/callout.md");
  EXPECT_NE(callout.find("- Operations: Cai Lu\n"), std::string::npos) << callout;
  EXPECT_NE(callout.find("Operations pre-filled from the on-call rota \"everything else\""),
            std::string::npos);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// The README.md index: open incidents, postmortems pending, recent callouts;
// people's text around the marked section stays.
TEST_F(EngineTest, ReadmeIndexListsIncidentsAndKeepsPeoplesText) {
  auto r = engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  ASSERT_EQ(r.outcome, Outcome::opened);
  auto index = repo.file("README.md");
  EXPECT_EQ(index.rfind("# Callouts\n", 0), 0u) << index;
  EXPECT_NE(index.find("## Open incidents\n\n| Callout | Severity | Opened |\n| --- | --- | --- |\n"
                       "| [api/high-request-latency-2026-11-22](api/high-request-latency-2026-11-"
                       "22/callout.md) | HPI | 2026-11-22 03:45:52 UTC |\n"),
            std::string::npos)
      << index;
  // The incident is active: its postmortem is not pending yet.
  EXPECT_NE(index.find("## Postmortems pending\n\nResolved incidents whose postmortem is not yet "
                       "published.\n\nNone.\n"),
            std::string::npos)
      << index;

  // An engineer rewrites the README around the section.
  auto begin = index.find("<!-- calloutd:index begin");
  repo.commit_by_hand("README.md", "# Team X callouts\n\nAsk in #team-x.\n\n" +
                                       index.substr(begin) + "\nFooter by people.\n");
  ASSERT_EQ(engine.apply(sample_event("am-0.25-resolved.json")).outcome, Outcome::updated);
  index = repo.file("README.md");
  EXPECT_EQ(index.rfind("# Team X callouts\n\nAsk in #team-x.\n\n<!-- calloutd:index begin", 0), 0u)
      << index;
  EXPECT_NE(index.find("<!-- calloutd:index end -->\n\nFooter by people.\n"), std::string::npos);
  EXPECT_NE(index.find("## Open incidents\n\nNone.\n"), std::string::npos) << index;
  EXPECT_NE(index.find("| [api/high-request-latency-2026-11-22](api/high-request-latency-2026-11-"
                       "22/postmortem.md) | draft | "),
            std::string::npos)
      << index;
  EXPECT_NE(index.find("### api\n\n- [api/high-request-latency-2026-11-22]"), std::string::npos);
  // A duplicate changes nothing, README included.
  auto commits = repo.commit_count();
  engine.apply(sample_event("am-0.25-resolved.json"));
  EXPECT_EQ(repo.commit_count(), commits);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

TEST(RepoIndexTest, LongListsAreCappedAndMarkersKeptOnce) {
  std::map<std::string, GroupState> states;
  for (int i = 0; i < 105; ++i) {
    GroupState s;
    s.folder = "mysql/lag-" + std::to_string(1000 + i) + "-2026-11-22";
    s.technology = "mysql";
    s.opened_at = *parse_rfc3339("2026-11-22T00:00:00Z") + std::chrono::minutes{i};
    states[std::to_string(i)] = s;
  }
  auto section = index_section(states);
  EXPECT_NE(section.find("\nAnd 5 more (`calloutctl list`).\n"), std::string::npos);
  EXPECT_NE(section.find("[mysql/lag-1104-2026-11-22]"), std::string::npos);  // newest first
  EXPECT_EQ(section.find("[mysql/lag-1004-2026-11-22](mysql/lag-1004-2026-11-22/callout.md) |"),
            std::string::npos);  // the oldest five are past the cap
  // People removed the markers: the section goes to the end, their text stays.
  auto readme = with_index(std::string("# Ours\n"), section);
  EXPECT_EQ(readme.rfind("# Ours\n\n<!-- calloutd:index begin", 0), 0u);
  EXPECT_EQ(with_index(readme, section), readme);  // replaced in place, not appended again
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// A name that markdown escaping changes ("Bo  Li" is written "Bo Li") is the
// same person when the scanner reads Team roles back: no phantom handover, one
// person in the shift book.
TEST_F(EngineTest, ANameThatEscapingChangesIsStillTheSamePerson) {
  auto r = engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  ASSERT_EQ(r.outcome, Outcome::opened);
  auto join = [&](const std::string& person, const char* when) {
    return engine.apply(Event{
        2, at(when), RoleRequest{r.incident_id, "join", "Operations", person, "", std::nullopt}});
  };
  EXPECT_EQ(join(" Bo  Li\t", "2026-11-22T04:00:00Z").outcome, Outcome::updated);
  auto callout = repo.file(api);
  EXPECT_NE(callout.find("- Operations: Bo Li\n"), std::string::npos) << callout;
  auto commits = repo.commit_count();

  // The scanner reads the callout back, as after every commit.
  auto read = read_callout(callout, api);
  ASSERT_EQ(read.roles.at("Operations"), "Bo Li");
  EXPECT_TRUE(apply_edits(engine, repo, at("2026-11-22T04:05:00Z")).empty());
  EXPECT_EQ(repo.commit_count(), commits);
  EXPECT_EQ(repo.file(api).find("Team roles - handover"), std::string::npos) << repo.file(api);
  // A retry through the API, however spaced or with a stray control character.
  EXPECT_EQ(join("Bo Li", "2026-11-22T04:06:00Z").outcome, Outcome::unchanged);
  EXPECT_EQ(join("Bo\x01  Li", "2026-11-22T04:07:00Z").outcome, Outcome::unchanged);

  auto stats = engine.responder_stats(at("2026-11-22T04:10:00Z"));
  ASSERT_EQ(stats.work_seconds.size(), 1u);
  EXPECT_EQ(stats.work_seconds.front().first, "Bo Li");
  EXPECT_EQ(stats.on_shift_by_role, (std::map<std::string, int>{{"Operations", 1}}));
}

// `shift start --ago` for the person who holds the role already: the start
// moves earlier, in the shift book and the timeline; a later one changes nothing.
TEST_F(EngineTest, AnEarlierStartForTheHolderMovesTheirShiftStart) {
  auto r = engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  ASSERT_EQ(r.outcome, Outcome::opened);
  auto join = [&](const char* received, const char* when) {
    return engine.apply(Event{
        2, at(received), RoleRequest{r.incident_id, "join", "Operations", "Bo Li", "", at(when)}});
  };
  EXPECT_EQ(join("2026-11-22T04:00:00Z", "2026-11-22T04:00:00Z").outcome, Outcome::updated);
  EXPECT_EQ(join("2026-11-22T04:05:00Z", "2026-11-22T03:40:00Z").outcome, Outcome::updated);
  EXPECT_NE(repo.file(api).find("- 2026-11-22 03:40:00 UTC - Team roles - Operations held from "
                                "this time on (the start moved earlier; see Team roles)\n"),
            std::string::npos)
      << repo.file(api);
  EXPECT_EQ(join("2026-11-22T04:06:00Z", "2026-11-22T03:50:00Z").outcome, Outcome::unchanged);
  auto stats = engine.responder_stats(at("2026-11-22T04:10:00Z"));
  ASSERT_EQ(stats.work_seconds.size(), 1u);
  EXPECT_EQ(stats.work_seconds.front().second, 30 * 60);
}

TEST_F(EngineTest, RotaMembersAreNormalisedLikeEveryOtherName) {
  auto loaded = parse_config(
      "rota:\n  - name: apis\n    start: 2026-11-16\n"
      "    primary: [\"  Bo   Li \"]\n",
      "t.yml", ".");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  EXPECT_EQ(loaded.config.rotas.at(0).primary, std::vector<std::string>{"Bo Li"});
}

// Every file of the repository: what the engine committed.
std::string all_files(FakeRepository& repo) {
  std::string out;
  std::vector<std::string> dirs{""};
  while (!dirs.empty()) {
    auto dir = dirs.back();
    dirs.pop_back();
    for (const auto& name : repo.list(repo.head(), dir)) {
      auto path = dir.empty() ? name : dir + "/" + name;
      auto text = repo.read(repo.head(), path).value();
      if (text) {
        out += "== " + path + "\n" + *text;
      } else {
        dirs.push_back(path);
      }
    }
  }
  return out;
}

// Credentials in URLs an alert carries never reach the repository.
TEST_F(EngineTest, CredentialsInAlertUrlsAreNotCommitted) {
  auto j = nlohmann::json::parse(testing::sample("am-0.25-firing-two-alerts.json"));
  j["alerts"][0]["generatorURL"] =
      "http://admin:hunter2@prometheus.example.internal:9090/graph?g0.expr=up&auth_token=S3CR3T";
  j["alerts"][0]["annotations"]["dashboard"] =
      "https://grafana.example/d/api?var-job=api&API_KEY=K3Y";
  j["externalURL"] = "https://am:passw0rd@alertmanager.example/?token=T0K";
  ASSERT_EQ(engine.apply(event(j.dump())).outcome, Outcome::opened);
  // Another group with no generatorURL: the link is Alertmanager's externalURL.
  j["groupLabels"]["alertname"] = j["commonLabels"]["alertname"] = "Other";
  for (auto& a : j["alerts"]) {
    a["labels"]["alertname"] = "Other";
    a["generatorURL"] = "";
    a["annotations"].erase("dashboard");
  }
  ASSERT_EQ(engine.apply(event(j.dump())).outcome, Outcome::opened);

  auto files = all_files(repo);
  for (const char* secret : {"hunter2", "S3CR3T", "K3Y", "passw0rd", "T0K"}) {
    EXPECT_EQ(files.find(secret), std::string::npos) << secret << " in\n" << files;
  }
  EXPECT_NE(files.find("(http://prometheus.example.internal:9090/graph?g0.expr=up&"
                       "auth_token=REDACTED)"),
            std::string::npos)
      << files;
  EXPECT_NE(files.find("(https://grafana.example/d/api?var-job=api&API_KEY=REDACTED)"),
            std::string::npos);
  EXPECT_NE(files.find("(https://alertmanager.example/?token=REDACTED)"), std::string::npos);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// Response targets: an open incident past one is counted once, when the
// target passes; taking Operations acknowledges it (a rota's pre-fill does not).
TEST_F(EngineTest, ResponseTargetsCountABreachWhenTheTargetPasses) {
  auto r = engine.apply(sample_event("am-0.25-firing-two-alerts.json"));
  ASSERT_EQ(r.outcome, Outcome::opened);  // HPI: acknowledge within 1h, resolve within 24h
  const auto opened = at("2026-11-22T03:45:52.038Z");
  auto before = engine.response_stats(opened + std::chrono::minutes(59));
  EXPECT_TRUE(before.past.empty());
  EXPECT_TRUE(before.breaches.empty());

  auto late = engine.response_stats(opened + std::chrono::minutes(61));
  using Key = std::pair<std::string, std::string>;
  EXPECT_EQ(late.past, (std::map<Key, int>{{{"HPI", "acknowledge"}, 1}}));
  EXPECT_EQ(late.breaches, (std::vector<Key>{{"HPI", "acknowledge"}}));
  auto again = engine.response_stats(opened + std::chrono::minutes(62));
  EXPECT_EQ(again.past.size(), 1u);
  EXPECT_TRUE(again.breaches.empty()) << "a breach is counted once";

  engine.apply(Event{2, opened + std::chrono::minutes(70),
                     RoleRequest{r.incident_id, "join", "Operations", "Ann Lee", "", {}}});
  auto taken = engine.response_stats(opened + std::chrono::minutes(71));
  EXPECT_TRUE(taken.past.empty()) << "taking Operations acknowledges it";
  auto day = engine.response_stats(opened + std::chrono::hours(25));
  EXPECT_EQ(day.breaches, (std::vector<Key>{{"HPI", "resolve"}}));

  engine.apply(sample_event("am-0.25-resolved.json", "2026-11-23T05:00:00Z"));
  EXPECT_TRUE(engine.response_stats(opened + std::chrono::hours(26)).past.empty());
  EXPECT_NE(repo.file(api).find("resolved; open for 2m9s (target 24h), acknowledged after 1h10m "
                                "(target 1h); Status set to resolved"),
            std::string::npos)
      << repo.file(api);
}

TEST(ResponseTargetsConfigTest, PerSeverityWithDefaults) {
  auto loaded = parse_config(R"(
response_targets:
  MPI:
    acknowledge: 5m
  HPI:
    resolve: 3d
)",
                             "c.yml", "/");
  ASSERT_TRUE(loaded.errors.empty());
  EXPECT_EQ(loaded.config.target_for(Severity::mpi).acknowledge, std::chrono::minutes(5));
  EXPECT_EQ(loaded.config.target_for(Severity::mpi).resolve, std::chrono::hours(4));
  EXPECT_EQ(loaded.config.target_for(Severity::hpi).acknowledge, std::chrono::hours(1));
  EXPECT_EQ(loaded.config.target_for(Severity::hpi).resolve, std::chrono::hours(72));
  auto bad = parse_config("response_targets:\n  P1: {acknowledge: 5m}\n", "c.yml", "/");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].find("c.yml:2: response_targets.P1: unknown key"), std::string::npos)
      << bad.errors[0];
}

}  // namespace
}  // namespace calloutd
