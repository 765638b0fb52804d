// Requests made by hand through the API (calloutctl resolve, ack; the roles
// API's leave): what the engine admits before they are journaled, and what
// applying them writes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/engine/engine.hpp"
#include "daemon/engine/manual.hpp"
#include "daemon/writeup/markdown.hpp"
#include "receivers/pagerduty.hpp"
#include "tests/support/events.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;
using Verdict = Engine::Admission::Verdict;

class EngineRequestsTest : public ::testing::Test {
 protected:
  EngineRequestsTest() {
    auto opened = engine.apply(Event{1, manual.at, manual});
    EXPECT_EQ(opened.outcome, Outcome::opened);
  }
  ApplyResult apply(Payload payload, const char* received) {
    return engine.apply(Event{++sequence, at(received), std::move(payload)});
  }
  std::string callout() { return repo.file(folder + "/callout.md"); }

  Config config = testing::api_routes();
  testing::FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  ManualIncident manual{"mysql", "replication lag", "MPI", "Replica 3 is behind",
                        at("2026-11-22T03:00:00Z")};
  std::string id = manual_incident_id(manual);
  std::string folder = "mysql/replication-lag-2026-11-22";
  std::uint64_t sequence = 1;
};

// A callout opened by hand, acknowledged and resolved by hand: one entry
// each, the resolution against the MPI targets (15m, 4h), the write-ups'
// daemon lines kept current; a second acknowledgement or resolution changes nothing.
TEST_F(EngineRequestsTest, ACalloutOpenedByHandIsAcknowledgedAndResolvedByHand) {
  EXPECT_EQ(engine.admit(AckRequest{id, "Cai Lu"}).verdict, Verdict::accept);
  auto ack = apply(AckRequest{id, "Cai Lu"}, "2026-11-22T03:10:00Z");
  ASSERT_EQ(ack.outcome, Outcome::updated);
  EXPECT_EQ(ack.acknowledged_after_seconds, 600.0);
  EXPECT_NE(callout().find("- 2026-11-22 03:10:00 UTC - calloutd API - incident acknowledged by "
                           "hand; Operations taken (see Team roles)\n"),
            std::string::npos)
      << callout();
  EXPECT_NE(callout().find("- Operations: Cai Lu\n"), std::string::npos);
  auto again = engine.admit(AckRequest{id, "Dee Ray"});
  EXPECT_EQ(again.verdict, Verdict::unchanged);
  EXPECT_EQ(again.reason, id + " was acknowledged at 2026-11-22 03:10:00 UTC");
  EXPECT_EQ(apply(AckRequest{id, "Dee Ray"}, "2026-11-22T03:20:00Z").outcome, Outcome::unchanged);
  EXPECT_TRUE(engine.response_stats(at("2026-11-22T03:30:00Z")).past.empty());

  EXPECT_EQ(engine.admit(ResolveRequest{id, ""}).verdict, Verdict::accept);
  auto resolved =
      apply(ResolveRequest{id, "the billing team sees no lag now"}, "2026-11-22T04:00:00Z");
  ASSERT_EQ(resolved.outcome, Outcome::updated);
  EXPECT_EQ(resolved.resolved_after_seconds, 3600.0);
  const auto text = callout();
  EXPECT_EQ(markdown::key_text(text, "Status"), "resolved");
  EXPECT_NE(text.find("- 2026-11-22 04:00:00 UTC - calloutd API - callout resolved by hand: the "
                      "billing team sees no lag now; open for 1h (target 4h), acknowledged after "
                      "10m (target 15m); Status set to resolved\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Last updated by calloutd at 2026-11-22 04:00:00 UTC."), std::string::npos);
  EXPECT_EQ(text.find("handover due by"), std::string::npos) << text;
  // The postmortem's Timeline tells it without the callout's bookkeeping.
  EXPECT_NE(repo.file(folder + "/postmortem.md")
                .find("calloutd API - callout resolved by hand: the billing team sees no lag now; "
                      "open for 1h (target 4h), acknowledged after 10m (target 15m)\n"),
            std::string::npos)
      << repo.file(folder + "/postmortem.md");
  EXPECT_EQ(engine.open_incidents().size(), 0u);

  auto commits = repo.commit_count();
  EXPECT_EQ(engine.admit(ResolveRequest{id, ""}).verdict, Verdict::unchanged);
  EXPECT_EQ(engine.admit(ResolveRequest{id, ""}).reason, id + " is resolved already");
  EXPECT_EQ(apply(ResolveRequest{id, ""}, "2026-11-22T04:05:00Z").outcome, Outcome::unchanged);
  EXPECT_EQ(repo.commit_count(), commits);
}

// Resolved without an acknowledgement: the entry says so; acknowledging a
// resolved incident is refused.
TEST_F(EngineRequestsTest, ResolvedWithoutAnAcknowledgement) {
  ASSERT_EQ(apply(ResolveRequest{id, ""}, "2026-11-22T03:05:00Z").outcome, Outcome::updated);
  EXPECT_NE(callout().find("- 2026-11-22 03:05:00 UTC - calloutd API - callout resolved by hand; "
                           "open for 5m (target 4h), not acknowledged (target 15m); Status set "
                           "to resolved\n"),
            std::string::npos)
      << callout();
  auto ack = engine.admit(AckRequest{id, ""});
  EXPECT_EQ(ack.verdict, Verdict::conflict);
  EXPECT_EQ(ack.reason, id + " is resolved: there is nothing to acknowledge");
}

// An alert-driven callout is not resolved by hand while its alerts fire
// (Alertmanager would open it again): the refusal names each alert.
TEST_F(EngineRequestsTest, AlertsThatFireKeepTheCalloutOpen) {
  auto opened = engine.apply(testing::firing_event(10, "2026-11-22T03:50:00Z"));
  ASSERT_EQ(opened.outcome, Outcome::opened);
  auto refused = engine.admit(ResolveRequest{opened.incident_id, ""});
  EXPECT_EQ(refused.verdict, Verdict::conflict);
  EXPECT_EQ(refused.reason, opened.incident_id +
                                " is not resolved by hand while its alerts fire; resolve or "
                                "silence them in Alertmanager");
  ASSERT_EQ(refused.details.size(), 2u);
  EXPECT_EQ(refused.details[0].rfind("alert ", 0), 0u) << refused.details[0];
  EXPECT_NE(refused.details[0].find(" firing since 2026-11-22 "), std::string::npos)
      << refused.details[0];
  // Journaled anyway (the answer came before an alert fired again): not applied.
  auto commits = repo.commit_count();
  EXPECT_EQ(apply(ResolveRequest{opened.incident_id, ""}, "2026-11-22T04:00:00Z").outcome,
            Outcome::ignored);
  EXPECT_EQ(repo.commit_count(), commits);
}

// The first acknowledgement counts, once: PagerDuty's after one by hand
// changes neither the time nor the time-to-acknowledge figures.
TEST(EngineAckTest, PagerDutysAcknowledgementAfterOneByHandIsNotCountedAgain) {
  Config config;
  testing::FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  auto pd = [](const std::string& type, const std::string& id, const std::string& when) {
    auto j = nlohmann::json::parse(testing::pagerduty_sample("pd-v3-incident.triggered.json"));
    j["event"]["event_type"] = type;
    j["event"]["id"] = id;
    j["event"]["occurred_at"] = when;
    auto e = receivers::parse_pagerduty(j.dump());
    EXPECT_TRUE(e) << e.error();
    return Event{1, at(when), e ? *e : PagerDutyEvent{}};
  };
  auto opened = engine.apply(pd("incident.triggered", "E1", "2026-11-22T03:00:00Z"));
  ASSERT_EQ(opened.outcome, Outcome::opened);
  auto ack = engine.apply(Event{2, at("2026-11-22T03:05:00Z"), AckRequest{opened.incident_id, ""}});
  ASSERT_EQ(ack.outcome, Outcome::updated);
  EXPECT_TRUE(ack.acknowledged_after_seconds);
  auto pd_ack = engine.apply(pd("incident.acknowledged", "E2", "2026-11-22T03:20:00Z"));
  ASSERT_EQ(pd_ack.outcome, Outcome::updated);
  EXPECT_FALSE(pd_ack.acknowledged_after_seconds) << *pd_ack.acknowledged_after_seconds;
  EXPECT_EQ(engine.admit(AckRequest{opened.incident_id, ""}).reason,
            opened.incident_id + " was acknowledged at 2026-11-22 03:05:00 UTC");
}

// The roles API's leave by someone who does not hold the role is refused,
// naming the holder; unknown incidents are unknown to every request.
TEST_F(EngineRequestsTest, ALeaveBySomeoneElseNamesTheHolder) {
  ASSERT_EQ(apply(RoleRequest{id, "join", "Operations", "Cai Lu", "", std::nullopt},
                  "2026-11-22T03:01:00Z")
                .outcome,
            Outcome::updated);
  auto leave = [&](const std::string& role, const std::string& person) {
    return engine.admit(RoleRequest{id, "leave", role, person, "", std::nullopt});
  };
  EXPECT_EQ(leave("Operations", " Cai  Lu").verdict, Verdict::accept);
  auto other = leave("Operations", "Dee Ray");
  EXPECT_EQ(other.verdict, Verdict::conflict);
  EXPECT_EQ(other.reason, "Dee Ray does not hold Operations on " + id + "; Cai Lu does");
  EXPECT_EQ(leave("Secondary", "Dee Ray").reason,
            "Dee Ray does not hold Secondary on " + id + "; nobody does");
  EXPECT_EQ(engine.admit(RoleRequest{id, "join", "Secondary", "Dee Ray", "", std::nullopt}).verdict,
            Verdict::accept);
  for (const Payload& unknown :
       {Payload(ResolveRequest{"man-nope", ""}), Payload(AckRequest{"man-nope", ""}),
        Payload(RoleRequest{"man-nope", "join", "Operations", "A", "", std::nullopt})}) {
    auto answer = engine.admit(unknown);
    EXPECT_EQ(answer.verdict, Verdict::unknown);
    EXPECT_EQ(answer.reason, "no incident \"man-nope\"");
  }
}

}  // namespace
}  // namespace calloutd
