// The engine's PagerDuty side, on the in-memory repository.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/base/hash.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/writeup/markdown.hpp"
#include "receivers/alertmanager.hpp"
#include "receivers/pagerduty.hpp"
#include "tests/support/edits.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;

using nlohmann::json;
using testing::apply_edits;
using testing::edit_by_hand;
using testing::FakeRepository;

// An event of incident PFQZPSY (#9, "Test Incident 3", service pig208), made
// from the triggered sample: `type`, event id, time, then `edit` on the JSON.
Event pd(const std::string& type, const std::string& id, const std::string& when,
         const std::function<void(json&)>& edit = {}) {
  json j = json::parse(testing::pagerduty_sample("pd-v3-incident.triggered.json"));
  j["event"]["event_type"] = type;
  j["event"]["id"] = id;
  j["event"]["occurred_at"] = when;
  if (edit) {
    edit(j["event"]);
  }
  auto e = receivers::parse_pagerduty(j.dump());
  EXPECT_TRUE(e) << e.error();
  e->signed_ok = true;
  return Event{1, at("2026-11-22T05:00:00Z"), *e};
}

Event alerts(const std::string& body) {
  auto g = receivers::parse_alertmanager(body);
  EXPECT_TRUE(g) << g.error();
  return Event{1, at("2026-11-22T03:50:00Z"), *g};
}

std::string timeline(const std::string& callout) {
  auto t = callout.substr(callout.find("## Incident timeline"));
  return t.substr(0, t.find("## Supporting"));
}

class EnginePagerDutyTest : public ::testing::Test {
 protected:
  Config config;
  FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  const std::string callout = "pig208/test-incident-3-2021-06-04/callout.md";
};

TEST_F(EnginePagerDutyTest, IncidentLifeBecomesTheCallout) {
  EXPECT_EQ(engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z")).outcome,
            Outcome::opened);
  EXPECT_EQ(engine.apply(pd("incident.acknowledged", "E2", "2021-06-04T13:40:00Z")).outcome,
            Outcome::updated);
  EXPECT_EQ(
      engine
          .apply(
              pd("incident.reassigned", "E3", "2021-06-04T13:45:00Z",
                 [](json& e) {
                   e["data"]["assignees"] = json::array({{{"id", "PX"}, {"summary", "Jane Roe"}}});
                 }))
          .outcome,
      Outcome::updated);
  EXPECT_EQ(
      engine
          .apply(pd("incident.annotated", "E4", "2021-06-04T13:50:00Z",
                    [](json& e) {
                      e["data"] = {
                          {"incident", {{"id", "PFQZPSY"}, {"summary", "Test Incident 3"}}},
                          {"content", "Restarted the API pods | see <b>graph</b>\n# not a heading"},
                          {"type", "incident_note"}};
                    }))
          .outcome,
      Outcome::updated);
  EXPECT_EQ(engine.apply(pd("incident.resolved", "E5", "2021-06-04T14:00:00Z")).outcome,
            Outcome::updated);
  // Retries (same event id) change nothing.
  EXPECT_EQ(engine.apply(pd("incident.acknowledged", "E2", "2021-06-04T13:40:00Z")).outcome,
            Outcome::unchanged);
  EXPECT_EQ(engine.apply(pd("incident.resolved", "E5", "2021-06-04T14:00:00Z")).outcome,
            Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), 5u);

  auto text = repo.file(callout);
  EXPECT_EQ(text.substr(0, text.find('\n')), "# Test Incident 3 - CALLOUT - 2021-06-04");
  EXPECT_EQ(markdown::key_text(text, "Severity"), "MPI");  // urgency high
  EXPECT_EQ(markdown::key_text(text, "Status"), "resolved");
  EXPECT_NE(markdown::key_text(text, "Incident Number")->find("PagerDuty #9"), std::string::npos);
  EXPECT_NE(text.find("- Operations: Jane Roe\n"), std::string::npos);
  EXPECT_EQ(timeline(text),
            "## Incident timeline\n\n"
            "- 2021-06-04 14:00:00 UTC - PagerDuty - incident \\#9 resolved in PagerDuty; open for "
            "24m31s (target 4h), acknowledged after 4m31s (target 15m)\n"
            "- 2021-06-04 13:50:00 UTC - PagerDuty - note: Restarted the API pods \\| see "
            "\\<b\\>graph\\</b\\> \\# not a "
            "heading\n"
            "- 2021-06-04 13:45:00 UTC - PagerDuty - handover: incident reassigned in PagerDuty; "
            "Operations passes to "
            "the new assignee (see Team roles)\n"
            "- 2021-06-04 13:40:00 UTC - PagerDuty - incident \\#9 acknowledged in PagerDuty by "
            "Operations\n"
            "- 2021-06-04 13:35:29 UTC - PagerDuty - incident \\#9 opened in PagerDuty; callout "
            "opened as MPI\n\n");
  EXPECT_TRUE(engine.open_incidents().empty());
}

TEST_F(EnginePagerDutyTest, OutOfOrderDeliveriesKeepTheNewestStatus) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z"));
  engine.apply(pd("incident.resolved", "E5", "2021-06-04T14:00:00Z"));
  EXPECT_EQ(engine.apply(pd("incident.reopened", "E4", "2021-06-04T13:50:00Z")).outcome,
            Outcome::updated);
  EXPECT_EQ(engine.apply(pd("incident.acknowledged", "E2", "2021-06-04T13:40:00Z")).outcome,
            Outcome::updated);
  auto text = repo.file(callout);
  EXPECT_EQ(markdown::key_text(text, "Status"), "resolved");
  auto t = timeline(text);
  EXPECT_LT(t.find("14:00:00 UTC - PagerDuty - incident \\#9 resolved"),
            t.find("13:50:00 UTC - PagerDuty - incident \\#9 reopened"));
  EXPECT_LT(t.find("13:50:00"), t.find("13:40:00"));
}

TEST_F(EnginePagerDutyTest, PriorityConferenceBridgeAndResponder) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z",
                  [](json& e) { e["data"]["urgency"] = "low"; }));
  EXPECT_EQ(markdown::key_text(repo.file(callout), "Severity"), "HPI");
  engine.apply(pd("incident.priority_updated", "E2", "2021-06-04T13:36:00Z", [](json& e) {
    e["data"]["priority"] = {{"summary", "P1"}, {"id", "PP"}};
  }));
  engine.apply(pd("incident.conference_bridge.updated", "E3", "2021-06-04T13:37:00Z", [](json& e) {
    e["data"]["conference_bridge"] = {{"conference_url", "https://meet.example.com/inc-9"},
                                      {"conference_number", "+1 555 0100,,123#"}};
  }));
  engine.apply(pd("incident.responder.added", "E4", "2021-06-04T13:38:00Z", [](json& e) {
    e["data"] = {{"incident", {{"id", "PFQZPSY"}}},
                 {"user", {{"id", "PU2"}, {"summary", "Sam Poe"}}},
                 {"state", "pending"},
                 {"type", "incident_responder"}};
  }));
  auto text = repo.file(callout);
  EXPECT_EQ(markdown::key_text(text, "Severity"), "MPI");
  EXPECT_NE(text.find("priority set to P1 in PagerDuty; Severity now MPI"), std::string::npos);
  EXPECT_NE(
      text.find(
          "## Engineer updates\n\n[conference bridge](https://meet.example.com/inc-9), dial +1 555 "
          "0100,,123\\#\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("- Secondary: Sam Poe\n"), std::string::npos);
}

TEST_F(EnginePagerDutyTest, UnmatchedServicesPingsAndUnknownIncidentsChangeNothing) {
  LoadedConfig c = parse_config(R"(
receivers:
  pagerduty:
    allow_unsigned: true
    routes:
      - matchers: ['service="pig208"', 'urgency="low"']
        severity: HPI
)",
                                "t.yml", "/");
  ASSERT_TRUE(c.errors.empty()) << c.errors[0];
  config = c.config;
  EXPECT_EQ(engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z")).outcome,
            Outcome::ignored);
  EXPECT_EQ(engine.apply(pd("incident.resolved", "E2", "2021-06-04T13:35:29Z")).outcome,
            Outcome::ignored);
  EXPECT_EQ(repo.commit_count(), 0u);
  EXPECT_EQ(engine
                .apply(pd("incident.triggered", "E3", "2021-06-04T13:35:29Z",
                          [](json& e) { e["data"]["urgency"] = "low"; }))
                .outcome,
            Outcome::opened);
}

// Alertmanager's PagerDuty notifier sends SHA-256(groupKey) as the dedup key,
// which PagerDuty reports as the incident key: one incident, one callout.
class CorrelationTest : public EnginePagerDutyTest {
 protected:
  std::string am_body = testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json");
  std::string key = sha256_hex(json::parse(am_body)["groupKey"].get<std::string>());
  Event triggered() {
    return pd("incident.triggered", "E1", "2026-11-22T03:46:10Z",
              [&](json& e) { e["data"]["incident_key"] = key; });
  }
  std::vector<std::string> folders() {
    std::vector<std::string> out;
    for (const auto& tech : repo.list(repo.head(), "")) {
      if (tech != ".calloutd") {
        for (const auto& f : repo.list(repo.head(), tech)) {
          out.push_back(tech + "/" + f);
        }
      }
    }
    return out;
  }
};

TEST_F(CorrelationTest, PagerDutyJoinsTheAlertmanagerCallout) {
  auto am = engine.apply(alerts(am_body));
  ASSERT_EQ(am.outcome, Outcome::opened);
  auto joined = engine.apply(triggered());
  EXPECT_EQ(joined.outcome, Outcome::updated);
  EXPECT_EQ(joined.folder, am.folder);
  EXPECT_EQ(folders(), std::vector<std::string>{am.folder});
  auto text = repo.file(am.folder + "/callout.md");
  EXPECT_EQ(markdown::key_text(text, "Incident Number"), am.incident_id + " (PagerDuty #9)");
  EXPECT_NE(text.find("PagerDuty - PagerDuty incident \\#9 joined this callout"),
            std::string::npos);
  // Later PagerDuty events land in the same callout.
  EXPECT_EQ(engine.apply(pd("incident.resolved", "E2", "2026-11-22T04:00:00Z")).folder, am.folder);
  EXPECT_EQ(markdown::key_text(repo.file(am.folder + "/callout.md"), "Status"), "resolved");
}

TEST_F(CorrelationTest, AlertmanagerJoinsThePagerDutyCallout) {
  auto opened = engine.apply(triggered());
  ASSERT_EQ(opened.outcome, Outcome::opened);
  auto am = engine.apply(alerts(am_body));
  EXPECT_EQ(am.outcome, Outcome::updated);
  EXPECT_EQ(am.folder, opened.folder);
  EXPECT_EQ(folders(), std::vector<std::string>{opened.folder});
  auto text = repo.file(opened.folder + "/callout.md");
  EXPECT_NE(text.find("Alertmanager - PostgresReplicationLag (instance=pg-replica-1:9187) firing"),
            std::string::npos);
  // The group resolving resolves the shared callout; a repeat changes nothing.
  EXPECT_EQ(engine.apply(alerts(am_body)).outcome, Outcome::unchanged);
  // After a restart the correlation still holds.
  Engine restarted(config, repo, templates);
  restarted.load();
  EXPECT_EQ(restarted.apply(alerts(am_body)).outcome, Outcome::unchanged);
  EXPECT_EQ(restarted.apply(pd("incident.acknowledged", "E9", "2026-11-22T03:47:00Z")).folder,
            opened.folder);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

struct TypeCase {
  const char* type;
  const char* entry;  // expected in the timeline, after "<time> - PagerDuty - "
};

class PagerDutyEventTypeTest : public EnginePagerDutyTest,
                               public ::testing::WithParamInterface<TypeCase> {};

// Each incident event type calloutd handles becomes its timeline entry.
TEST_P(PagerDutyEventTypeTest, BecomesATimelineEntry) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z"));
  auto r = engine.apply(pd(GetParam().type, "E2", "2021-06-04T13:40:00Z", [](json& e) {
    if (std::string(e["event_type"]).find("responder") != std::string::npos ||
        e["event_type"] == "incident.status_update_published" ||
        e["event_type"] == "incident.annotated") {
      e["data"] = {{"incident", {{"id", "PFQZPSY"}}},
                   {"user", {{"id", "PU2"}, {"summary", "Sam Poe"}}},
                   {"state", "joined"},
                   {"message", "Checkout is degraded"},
                   {"content", "A note"},
                   {"type", "incident_note"}};
    }
    e["data"]["conference_bridge"] = {{"conference_url", "https://meet.example.com/x"}};
    e["data"]["priority"] = {{"summary", "P2"}};
  }));
  EXPECT_EQ(r.outcome, Outcome::updated);
  auto text = repo.file("pig208/test-incident-3-2021-06-04/callout.md");
  EXPECT_NE(
      text.find(std::string("- 2021-06-04 13:40:00 UTC - PagerDuty - ") + GetParam().entry + "\n"),
      std::string::npos)
      << text;
}

std::string type_name(const ::testing::TestParamInfo<TypeCase>& param) {
  std::string out;
  for (char c : std::string(param.param.type).substr(9)) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Types, PagerDutyEventTypeTest,
    ::testing::Values(
        TypeCase{"incident.acknowledged", "incident \\#9 acknowledged in PagerDuty by Operations"},
        TypeCase{"incident.unacknowledged",
                 "acknowledgement timed out; incident \\#9 unacknowledged"},
        TypeCase{"incident.reassigned",
                 "handover: incident reassigned in PagerDuty; Operations passes to the new "
                 "assignee (see Team roles)"},
        TypeCase{"incident.escalated",
                 "handover: incident escalated in PagerDuty (escalation policy Default); "
                 "Operations passes to the "
                 "new assignee (see Team roles)"},
        TypeCase{"incident.delegated",
                 "handover: incident delegated in PagerDuty; Operations passes to the new assignee "
                 "(see Team roles)"},
        TypeCase{"incident.responder.added",
                 "responder requested through PagerDuty for the Secondary role (joined)"},
        TypeCase{"incident.responder.replied", "Secondary responder replied in PagerDuty: joined"},
        TypeCase{"incident.priority_updated", "priority set to P2 in PagerDuty; Severity now HPI"},
        TypeCase{"incident.annotated", "note: A note"},
        TypeCase{"incident.status_update_published",
                 "status update published: Checkout is degraded"},
        TypeCase{"incident.conference_bridge.updated", "conference bridge updated in PagerDuty"},
        TypeCase{"incident.reopened", "incident \\#9 reopened in PagerDuty"},
        TypeCase{"incident.resolved",
                 "incident \\#9 resolved in PagerDuty; open for 4m31s (target 4h), not "
                 "acknowledged (target 15m)"}),
    type_name);

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// The seed's rule: a lone operational engineer works at most 4 hours.
TEST_F(EnginePagerDutyTest, LoneOperationsEngineerIsWarnedThenToldToCallTheSecondary) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z"));  // Operations: PIG 208
  auto stats = engine.responder_stats(at("2021-06-04T14:00:00Z"));
  EXPECT_EQ(stats.on_shift_by_role, (std::map<std::string, int>{{"Operations", 1}}));
  ASSERT_EQ(stats.work_seconds.size(), 1u);
  EXPECT_EQ(stats.work_seconds[0], (std::pair<std::string, double>{"PIG 208", 1471}));

  engine.check_work_limits(at("2021-06-04T16:00:00Z"));
  EXPECT_EQ(repo.commit_count(), 1u);                    // 2 h 25 min: nothing to say yet
  engine.check_work_limits(at("2021-06-04T17:05:29Z"));  // 3 h 30 min
  engine.check_work_limits(at("2021-06-04T17:10:00Z"));  // said once per shift
  auto text = repo.file(callout);
  EXPECT_NE(text.find("- 2021-06-04 17:05:29 UTC - calloutd - handover due: the lone Operations "
                      "engineer reaches the "
                      "4h limit at 2021-06-04 17:35:29 UTC; hand over or call the Secondary\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(repo.commit_count(), 2u);
  engine.check_work_limits(at("2021-06-04T17:35:29Z"));
  EXPECT_NE(repo.file(callout).find(
                "17:35:29 UTC - calloutd - limit reached: the lone Operations engineer has worked "
                "4h without a break; call the Secondary (or hand over) now"),
            std::string::npos);
  stats = engine.responder_stats(at("2021-06-04T17:40:00Z"));
  EXPECT_EQ(stats.over_limit, 1);
  EXPECT_EQ(stats.breaches, 1u);
  EXPECT_EQ(stats.handovers_overdue, 1);

  // The Secondary joins: no longer alone, nothing more is said.
  engine.apply(pd("incident.responder.added", "E2", "2021-06-04T17:45:00Z", [](json& e) {
    e["data"] = {{"incident", {{"id", "PFQZPSY"}}},
                 {"user", {{"id", "PU2"}, {"summary", "Sam Poe"}}},
                 {"state", "pending"},
                 {"type", "incident_responder"}};
  }));
  auto commits = repo.commit_count();
  engine.check_work_limits(at("2021-06-04T19:00:00Z"));
  EXPECT_EQ(repo.commit_count(), commits);
  EXPECT_EQ(engine.responder_stats(at("2021-06-04T19:00:00Z")).over_limit, 0);
}

TEST_F(EnginePagerDutyTest, HandoverStartsTheNextPersonsClockAndResolutionEndsShifts) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:00:00Z"));
  engine.apply(pd("incident.reassigned", "E2", "2021-06-04T16:00:00Z", [](json& e) {
    e["data"]["assignees"] = json::array({{{"id", "PX"}, {"summary", "Jane Roe"}}});
  }));
  EXPECT_NE(repo.file(callout).find(
                "- Next Incident Lead: n/a (handover due by 2021-06-04 20:00:00 UTC)"),
            std::string::npos);
  engine.check_work_limits(at("2021-06-04T17:45:00Z"));  // Jane: 1 h 45 min
  EXPECT_EQ(repo.file(callout).find("handover due:"), std::string::npos);
  auto stats = engine.responder_stats(at("2021-06-04T17:45:00Z"));
  // PIG 208 left at 16:00: more than the short break ago, off shift.
  ASSERT_EQ(stats.work_seconds.size(), 1u);
  EXPECT_EQ(stats.work_seconds[0], (std::pair<std::string, double>{"Jane Roe", 6300}));
  engine.apply(pd("incident.resolved", "E3", "2021-06-04T18:00:00Z"));
  stats = engine.responder_stats(at("2021-06-04T18:30:00Z"));
  EXPECT_TRUE(stats.on_shift_by_role.empty());
  EXPECT_TRUE(stats.work_seconds.empty());
  // After a restart the shifts are read back from the repository.
  Engine restarted(config, repo, templates);
  restarted.load();
  EXPECT_TRUE(restarted.responder_stats(at("2021-06-04T18:30:00Z")).work_seconds.empty());
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// Names people write into Team roles are role changes, like the API's, dated
// by the commit that wrote them.
TEST_F(EnginePagerDutyTest, TeamRolesWrittenByHandMoveRolesAndShifts) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:00:00Z"));  // Operations: PIG 208
  auto roles = [&](std::map<std::string, std::string> holders, const char* when) {
    edit_by_hand(
        repo, callout,
        [&](std::string text) {
          for (const auto& [role, holder] : holders) {
            text = markdown::set_list_item(text, "Team roles", role, holder);
          }
          return text;
        },
        at(when));
  };
  roles({{"Secondary", "Sam Poe"}, {"Manager", "n/a"}}, "2021-06-04T13:25:00Z");
  ASSERT_EQ(apply_edits(engine, repo, at("2021-06-04T13:30:00Z")).size(), 1u);
  auto text = repo.file(callout);
  EXPECT_NE(text.find("- 2021-06-04 13:25:00 UTC - Team roles - Secondary taken\n"),
            std::string::npos)
      << text;
  auto stats = engine.responder_stats(at("2021-06-04T14:00:00Z"));
  EXPECT_EQ(stats.on_shift_by_role,
            (std::map<std::string, int>{{"Operations", 1}, {"Secondary", 1}}));
  // Read again (the daemon's own commit, a rescan): nothing to do.
  auto commits = repo.commit_count();
  EXPECT_TRUE(apply_edits(engine, repo, at("2021-06-04T13:31:00Z")).empty());
  EXPECT_EQ(repo.commit_count(), commits);
  // Secondary cleared (n/a): left.
  roles({{"Secondary", "n/a"}}, "2021-06-04T13:40:00Z");
  ASSERT_EQ(apply_edits(engine, repo, at("2021-06-04T13:41:00Z")).size(), 1u);
  EXPECT_NE(repo.file(callout).find(
                "- 2021-06-04 13:40:00 UTC - Team roles - Secondary left; nobody holds it now"),
            std::string::npos)
      << repo.file(callout);
  // A resolved callout's Team roles are a record: no changes from them.
  engine.apply(pd("incident.resolved", "E2", "2021-06-04T14:00:00Z"));
  roles({{"Operations", "Someone Else"}}, "2021-06-04T14:05:00Z");
  commits = repo.commit_count();
  EXPECT_TRUE(apply_edits(engine, repo, at("2021-06-04T14:10:00Z")).empty());
  EXPECT_EQ(repo.commit_count(), commits);
}

// PagerDuty retries a delivery for up to 48 hours: however many newer events
// of the incident arrive meanwhile, a replay changes nothing.
TEST_F(EnginePagerDutyTest, ReplayAfterManyNewerEventsChangesNothing) {
  ASSERT_EQ(engine.apply(pd("incident.triggered", "E0", "2021-06-04T13:00:00Z")).outcome,
            Outcome::opened);
  auto note = [](int i) {
    return [i](json& e) {
      e["data"] = {{"incident", {{"id", "PFQZPSY"}, {"summary", "Test Incident 3"}}},
                   {"content", "note " + std::to_string(i)},
                   {"type", "incident_note"}};
    };
  };
  ASSERT_EQ(engine.apply(pd("incident.annotated", "N0", "2021-06-04T13:01:00Z", note(0))).outcome,
            Outcome::updated);
  for (int i = 1; i <= 300; ++i) {
    ASSERT_EQ(engine
                  .apply(pd("incident.annotated", "N" + std::to_string(i), "2021-06-04T13:02:00Z",
                            note(i)))
                  .outcome,
              Outcome::updated);
  }
  const auto commits = repo.commit_count();
  const auto text = repo.file(callout);
  EXPECT_EQ(engine.apply(pd("incident.annotated", "N0", "2021-06-04T13:01:00Z", note(0))).outcome,
            Outcome::unchanged);
  EXPECT_EQ(engine.apply(pd("incident.triggered", "E0", "2021-06-04T13:00:00Z")).outcome,
            Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), commits);
  EXPECT_EQ(repo.file(callout), text);

  // And after a restart, from the committed state.
  Engine restarted(config, repo, templates);
  restarted.load();
  EXPECT_EQ(
      restarted.apply(pd("incident.annotated", "N0", "2021-06-04T13:01:00Z", note(0))).outcome,
      Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), commits);
}

// An id is remembered 48 hours from when it was applied, then forgotten.
TEST_F(EnginePagerDutyTest, EventIdsAreForgottenAfterTheRetryWindow) {
  auto received = [](Event e, const char* when) {
    e.received_at = at(when);
    return e;
  };
  engine.apply(
      received(pd("incident.triggered", "E0", "2021-06-04T13:00:00Z"), "2021-06-04T13:00:01Z"));
  auto ack = pd("incident.acknowledged", "E1", "2021-06-04T13:05:00Z");
  EXPECT_EQ(engine.apply(received(ack, "2021-06-04T13:05:01Z")).outcome, Outcome::updated);
  EXPECT_EQ(engine.apply(received(ack, "2021-06-06T13:05:00Z")).outcome, Outcome::unchanged);
  // A newer event 49 hours on prunes E1; a later replay is applied again (a
  // new timeline entry), as PagerDuty no longer sends it.
  engine.apply(received(pd("incident.unacknowledged", "E2", "2021-06-06T14:05:00Z"),
                        "2021-06-06T14:05:01Z"));
  EXPECT_EQ(engine.apply(received(ack, "2021-06-06T14:06:00Z")).outcome, Outcome::updated);
}

// State files written before event times were kept hold bare ids: still read.
TEST_F(EnginePagerDutyTest, StateFilesWithBareEventIdsAreStillRead) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z"));
  engine.apply(pd("incident.acknowledged", "E2", "2021-06-04T13:40:00Z"));
  auto paths = testing::state_files(repo, repo.head());
  ASSERT_EQ(paths.size(), 1u);
  const auto path = paths.front();
  auto state = json::parse(repo.file(path));
  // As the previous version wrote it.
  state["pagerduty"].erase("applied_events");
  state["pagerduty"]["events"] = {"E1", "E2"};
  repo.commit_by_hand(path, state.dump(2) + "\n");
  Engine restarted(config, repo, templates);
  restarted.load();
  const auto commits = repo.commit_count();
  EXPECT_EQ(restarted.apply(pd("incident.acknowledged", "E2", "2021-06-04T13:40:00Z")).outcome,
            Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), commits);
  // The next event writes the new form, the old ids kept with it.
  EXPECT_EQ(restarted.apply(pd("incident.unacknowledged", "E3", "2021-06-04T13:50:00Z")).outcome,
            Outcome::updated);
  auto events = json::parse(repo.file(path))["pagerduty"]["applied_events"];
  EXPECT_EQ(events.size(), 3u) << events.dump();
  EXPECT_FALSE(json::parse(repo.file(path))["pagerduty"].contains("events"));
}

// Credentials in the URLs PagerDuty sends never reach the repository.
TEST_F(EnginePagerDutyTest, CredentialsInIncidentUrlsAreNotCommitted) {
  engine.apply(pd("incident.triggered", "E1", "2021-06-04T13:35:29Z", [](json& e) {
    e["data"]["html_url"] = "https://bot:pa55@pig208.pagerduty.com/incidents/PFQZPSY?sig=S1G";
  }));
  engine.apply(pd("incident.conference_bridge.updated", "E2", "2021-06-04T13:40:00Z", [](json& e) {
    e["data"]["conference_bridge"] = {
        {"conference_url", "https://meet.example/j/1?passwd=PW1&x=1"}};
  }));
  std::string files = repo.file(callout);
  for (const auto& path : testing::state_files(repo, repo.head())) {
    files += repo.file(path);
  }
  for (const char* secret : {"pa55", "S1G", "PW1"}) {
    EXPECT_EQ(files.find(secret), std::string::npos) << secret << " in\n" << files;
  }
  EXPECT_NE(files.find("(https://pig208.pagerduty.com/incidents/PFQZPSY?sig=REDACTED)"),
            std::string::npos)
      << files;
  EXPECT_NE(files.find("(https://meet.example/j/1?passwd=REDACTED&x=1)"), std::string::npos);
}

}  // namespace
}  // namespace calloutd
