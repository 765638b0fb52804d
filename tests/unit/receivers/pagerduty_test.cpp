#include "receivers/pagerduty.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace calloutd::receivers {
namespace {

// The signed test vector of shared/samples/pagerduty/SOURCES.md.
const std::string k_secret = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK";
const std::string k_good = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd";
const std::string k_bad = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5";

std::string signed_body() {
  return testing::pagerduty_sample("pd-v3-incident.priority_updated.SIGNED.json");
}

TEST(PagerDutyTest, SignatureVectorVerifies) {
  auto body = signed_body();
  ASSERT_EQ(body.size(), 1655u);
  EXPECT_TRUE(verify_pagerduty_signature(body, k_good, {k_secret}));
  EXPECT_FALSE(verify_pagerduty_signature(body, k_bad, {k_secret}));
  EXPECT_FALSE(verify_pagerduty_signature(body + "\n", k_good, {k_secret}));  // one more byte
  EXPECT_FALSE(verify_pagerduty_signature(body, "", {k_secret}));
  EXPECT_FALSE(verify_pagerduty_signature(body, k_good, {}));
  EXPECT_FALSE(verify_pagerduty_signature(body, "v2=" + k_good.substr(3), {k_secret}));
}

TEST(PagerDutyTest, RotationAnySignatureAnySecretPasses) {
  auto body = signed_body();
  EXPECT_TRUE(verify_pagerduty_signature(body, k_bad + "," + k_good, {k_secret}));
  EXPECT_TRUE(verify_pagerduty_signature(body, k_good + ", " + k_bad, {k_secret}));
  EXPECT_TRUE(verify_pagerduty_signature(body, k_good, {"the-new-secret", k_secret}));
  EXPECT_FALSE(verify_pagerduty_signature(body, k_bad + "," + k_bad, {"the-new-secret", k_secret}));
}

TEST(PagerDutyTest, EverySampleParses) {
  for (const char* name :
       {"pd-v3-incident.triggered.json", "pd-v3-incident.acknowledged.json",
        "pd-v3-incident.reassigned.json", "pd-v3-incident.resolved.json",
        "pd-v3-incident.annotated.json", "pd-v3-incident.responder.added.json",
        "pd-v3-incident.priority_updated.SIGNED.json", "pd-v3-service.updated.json"}) {
    auto e = parse_pagerduty(testing::pagerduty_sample(name));
    ASSERT_TRUE(e) << name << ": " << e.error();
    EXPECT_FALSE(e->id.empty()) << name;
  }
}

TEST(PagerDutyTest, IncidentFields) {
  auto e = parse_pagerduty(signed_body());
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->event_type, "incident.priority_updated");
  EXPECT_TRUE(e->is_incident());
  EXPECT_EQ(e->incident_id, "PGR0VU2");
  EXPECT_EQ(e->number, 2);
  EXPECT_EQ(e->title, "A little bump in the road");
  EXPECT_EQ(e->service_name, "API Service");
  EXPECT_EQ(e->service_id, "PF9KMXH");
  EXPECT_EQ(e->urgency, "high");
  EXPECT_EQ(e->priority, "P1");
  EXPECT_EQ(e->agent.name, "Tenex Engineer");
  ASSERT_EQ(e->assignees.size(), 1u);
  EXPECT_EQ(e->assignees[0].name, "User 123");
  EXPECT_EQ(e->conference_number, "1000");  // a number in this sample, a string elsewhere
  EXPECT_EQ(format_rfc3339_millis(e->occurred_at), "2021-04-26T17:36:27.458Z");
}

TEST(PagerDutyTest, NotesAndRespondersCarryTheIncidentAsAReference) {
  auto note = parse_pagerduty(testing::pagerduty_sample("pd-v3-incident.annotated.json"));
  ASSERT_TRUE(note) << note.error();
  EXPECT_EQ(note->incident_id, "Q3B15VLMF3ASBD");
  EXPECT_EQ(note->title, "Critical: Checkout API High Latency");
  EXPECT_EQ(note->note, "Running KILL on long-running queries from the reporting-service.");
  auto responder =
      parse_pagerduty(testing::pagerduty_sample("pd-v3-incident.responder.added.json"));
  ASSERT_TRUE(responder) << responder.error();
  EXPECT_EQ(responder->responder.name, "Harsh Santwani");
  EXPECT_EQ(responder->responder_state, "pending");
  EXPECT_EQ(responder->message, "Please help with \"Critical: Checkout API High Latency\"");
}

TEST(PagerDutyTest, OtherResourcesAndUnknownTypesAreTolerated) {
  auto service = parse_pagerduty(testing::pagerduty_sample("pd-v3-service.updated.json"));
  ASSERT_TRUE(service) << service.error();
  EXPECT_FALSE(service->is_incident());
  auto ping = parse_pagerduty(
      R"({"event":{"id":"01PING","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-11-22T03:00:00Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}})");
  ASSERT_TRUE(ping) << ping.error();
  EXPECT_FALSE(ping->is_incident());
  auto future = parse_pagerduty(
      R"({"event":{"id":"01X","event_type":"incident.something_new","resource_type":"incident","occurred_at":"2026-11-22T03:00:00Z","data":{"id":"P1","type":"incident","extra":{"a":[1]}}}})");
  ASSERT_TRUE(future) << future.error();
  EXPECT_TRUE(future->is_incident());
}

TEST(PagerDutyTest, ErrorsNameTheProblem) {
  EXPECT_EQ(parse_pagerduty("{").error(), "body is not valid JSON");
  EXPECT_EQ(parse_pagerduty("{}").error(), "event: missing (not a PagerDuty V3 webhook?)");
  EXPECT_EQ(parse_pagerduty(R"({"event":{"event_type":"incident.triggered"}})").error(),
            "event.id: missing");
  EXPECT_EQ(parse_pagerduty(
                R"({"event":{"id":"1","event_type":"incident.triggered","occurred_at":"soon"}})")
                .error(),
            "event.occurred_at: \"soon\" is not an RFC 3339 time");
  EXPECT_EQ(
      parse_pagerduty(
          R"({"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-11-22T03:00:00Z","data":{"type":"incident"}}})")
          .error(),
      "event.data: no incident id in an incident event");
}

TEST(PagerDutyTest, ErrorsQuoteAShortExcerptOfAHugeValue) {
  // 999,999 bytes of "é" (2 bytes each) and one "x": the excerpt cuts no character.
  std::string huge = "x";
  for (int i = 0; i < 499'999; ++i) {
    huge += "\xC3\xA9";
  }
  auto e = parse_pagerduty(
      R"({"event":{"id":"1","event_type":"incident.triggered","occurred_at":")" + huge + R"("}})");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), "event.occurred_at: \"" + huge.substr(0, 99) +
                           "... (999999 bytes)\" is not an RFC 3339 time");
}

}  // namespace
}  // namespace calloutd::receivers
