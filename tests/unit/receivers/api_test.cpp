#include "receivers/api.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "tests/support/test_support.hpp"

namespace calloutd::receivers {
namespace {

using testing::at;

const std::string k_incident = "mysql-lag-2026-11-30";
const TimePoint k_now = at("2026-12-01T08:30:00.123456789Z");

// The payload of kind T a record parses into; fails the test otherwise.
template <typename T>
T record_payload(const std::string& record) {
  auto payload = parse_api_record(record);
  EXPECT_TRUE(payload) << record << ": " << (payload ? "" : payload.error());
  const T* typed = payload ? std::get_if<T>(&*payload) : nullptr;
  EXPECT_NE(typed, nullptr) << record;
  return typed != nullptr ? *typed : T{};
}

std::string json_note(const std::string& note) {
  return R"({"note":")" + note + R"("})";
}

// The errors are the API's 400 bodies: pinned to the byte.
TEST(ApiReceiverTest, RoleRequestErrorsNameTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1]", R"(expected a JSON object {"action", "role", "person", "to"})"},
      {"{", R"(expected a JSON object {"action", "role", "person", "to"})"},
      {R"({"action":"swap","role":"Operations","person":"Ana"})",
       R"(action "swap" is not one of join, leave, handover)"},
      {R"({"action":"join","role":"Chef","person":"Ana"})",
       R"(role "Chef" is not one of Incident Lead, Operations, Secondary, Planning, )"
       R"(Communications, Manager)"},
      {R"({"action":"join","role":"Operations"})", "person: missing"},
      {R"({"action":"join","role":"Operations","person":7})", "person: missing"},
      {R"({"action":"handover","role":"Operations","person":"Ana"})",
       "to: missing (who takes over)"},
      {R"({"action":"join","role":"Operations","person":"Ana","at":"yesterday"})",
       R"(at: "yesterday" is not an RFC 3339 time in the past)"},
      {R"({"action":"join","role":"Operations","person":"Ana","at":"2026-12-01T08:31:00Z"})",
       R"(at: "2026-12-01T08:31:00Z" is not an RFC 3339 time in the past)"},
      {R"({"action":"join","role":"Operations","person":"Ana","at":"0001-01-01T00:00:00Z"})",
       R"(at: "0001-01-01T00:00:00Z" is not an RFC 3339 time in the past)"},
      // Before 1971 once in UTC: the journal could not keep it.
      {R"({"action":"join","role":"Operations","person":"Ana","at":"1971-01-01T00:00:00+01:00"})",
       R"(at: "1971-01-01T00:00:00+01:00" is not an RFC 3339 time in the past)"},
  };
  for (const auto& [body, error] : cases) {
    auto parsed = parse_role_request(body, k_incident, k_now);
    ASSERT_FALSE(parsed) << body;
    EXPECT_EQ(parsed.error(), error) << body;
  }
}

TEST(ApiReceiverTest, RoleRequestKeepsTheJournalsMilliseconds) {
  auto r =
      parse_role_request(R"({"action":"handover","role":"Incident Lead","person":"Ana","to":"Bo",)"
                         R"("at":"2026-11-30T07:00:00.123999+01:00"})",
                         k_incident, k_now);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->incident_id, k_incident);
  EXPECT_EQ(r->action, "handover");
  EXPECT_EQ(r->role, "Current Incident Lead");  // the template's label
  EXPECT_EQ(r->person, "Ana");
  EXPECT_EQ(r->to, "Bo");
  EXPECT_EQ(r->at, at("2026-11-30T06:00:00.123Z"));
  EXPECT_EQ(api_record(*r),
            R"({"action":"handover","at":"2026-11-30T06:00:00.123Z","incident_id":")" + k_incident +
                R"(","kind":"roles","person":"Ana","role":"Current Incident Lead","to":"Bo"})");
}

TEST(ApiReceiverTest, ManualIncidentErrorsNameTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"null", R"(expected a JSON object {"technology", "issue", "severity", "summary"})"},
      {R"({"issue":"lag","severity":"MPI","summary":"s"})",
       "technology: missing (a slug such as mysql)"},
      {R"({"technology":7,"issue":"lag","severity":"MPI","summary":"s"})",
       "technology: missing (a slug such as mysql)"},
      {R"({"technology":"mysql","issue":"--","severity":"MPI","summary":"s"})",
       R"(issue: missing (what is wrong, e.g. "replication lag"))"},
      {R"({"technology":"mysql","issue":"lag","severity":"P1","summary":"s"})",
       R"(severity "P1" is not MPI or HPI)"},
      {R"({"technology":"mysql","issue":"lag","severity":"HPI"})", "summary: missing"},
  };
  for (const auto& [body, error] : cases) {
    auto parsed = parse_manual_incident(body, k_now);
    ASSERT_FALSE(parsed) << body;
    EXPECT_EQ(parsed.error(), error) << body;
  }
}

TEST(ApiReceiverTest, ManualIncidentIsReportedNowToTheMillisecond) {
  auto m = parse_manual_incident(
      R"({"technology":"MySQL","issue":"replication lag","severity":"MPI","summary":"lag 300 s"})",
      k_now);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->technology, "mysql");
  EXPECT_EQ(m->issue, "replication lag");
  EXPECT_EQ(m->at, at("2026-12-01T08:30:00.123Z"));
  EXPECT_EQ(api_record(*m),
            R"({"at":"2026-12-01T08:30:00.123Z","issue":"replication lag","kind":"incident",)"
            R"("severity":"MPI","summary":"lag 300 s","technology":"mysql"})");
}

TEST(ApiReceiverTest, PostmortemStatusNeedsAString) {
  const std::string error =
      R"(expected a JSON object {"status": "draft" | "in review" | "published"})";
  for (const char* body : {"", "[]", "{}", R"({"status":1})", R"({"state":"draft"})"}) {
    auto parsed = parse_postmortem_status(body, k_incident);
    ASSERT_FALSE(parsed) << body;
    EXPECT_EQ(parsed.error(), error) << body;
  }
  auto c = parse_postmortem_status(R"({"status":"in review"})", k_incident);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->incident_id, k_incident);
  EXPECT_EQ(c->status, "in review");
  EXPECT_EQ(api_record(*c),
            R"({"incident_id":")" + k_incident + R"(","kind":"postmortem","status":"in review"})");
}

// Records as calloutd wrote them before the receiver had them (a journal
// left unapplied by the previous version is replayed by this one).
TEST(ApiReceiverTest, RecordsOfTheFormerFormatParseAsBefore) {
  auto role = record_payload<RoleRequest>(
      R"({"action":"join","incident_id":"mysql-lag-2026-11-30","kind":"roles",)"
      R"("person":"Dee Ray","role":"Communications","to":""})");
  EXPECT_EQ(role.incident_id, k_incident);
  EXPECT_EQ(role.action, "join");
  EXPECT_EQ(role.role, "Communications");
  EXPECT_EQ(role.person, "Dee Ray");
  EXPECT_EQ(role.to, "");
  EXPECT_EQ(role.at, std::nullopt);

  auto handover = record_payload<RoleRequest>(
      R"({"action":"handover","at":"2026-11-30T06:00:00.000Z","incident_id":"man-0123456789",)"
      R"("kind":"roles","person":"Ana","role":"Current Incident Lead","to":"Bo"})");
  EXPECT_EQ(handover.role, "Current Incident Lead");
  EXPECT_EQ(handover.to, "Bo");
  EXPECT_EQ(handover.at, at("2026-11-30T06:00:00Z"));

  auto manual = record_payload<ManualIncident>(
      R"({"at":"2026-11-30T05:12:09.871Z","issue":"replication lag","kind":"incident",)"
      R"("severity":"HPI","summary":"lag 300 s","technology":"mysql"})");
  EXPECT_EQ(manual.technology, "mysql");
  EXPECT_EQ(manual.issue, "replication lag");
  EXPECT_EQ(manual.severity, "HPI");
  EXPECT_EQ(manual.summary, "lag 300 s");
  EXPECT_EQ(manual.at, at("2026-11-30T05:12:09.871Z"));

  // A postmortem's record had no kind.
  auto postmortem = record_payload<PostmortemStatusChange>(
      R"({"incident_id":"mysql-lag-2026-11-30","status":"published"})");
  EXPECT_EQ(postmortem.incident_id, k_incident);
  EXPECT_EQ(postmortem.status, "published");
}

TEST(ApiReceiverTest, RecordErrorsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "not a JSON object"},
      {R"({"kind":"shift"})",
       R"(kind: "shift" is not one of roles, incident, postmortem, resolve, ack)"},
      {R"({"kind":3})", R"(kind: "3" is not one of roles, incident, postmortem, resolve, ack)"},
      {R"({"status":"published"})", "incident_id: missing or not a string"},
      {R"({"kind":"roles","incident_id":"i","action":"join","role":"Operations","to":""})",
       "person: missing or not a string"},
      {R"({"kind":"roles","incident_id":"i","action":"join","role":"Incident Lead",)"
       R"("person":"Ana","to":""})",
       R"(role "Incident Lead" is not one of Incident Lead, Operations, Secondary, Planning, )"
       R"(Communications, Manager)"},
      {R"({"kind":"roles","incident_id":"i","action":"join","role":"Operations",)"
       R"("person":"Ana","to":"","at":"2026-11-30T06:00:00Z"})",
       R"(at: "2026-11-30T06:00:00Z" is not an RFC 3339 time in UTC to the millisecond)"},
      {R"({"kind":"incident","technology":"mysql","issue":"lag","severity":"MPI","summary":"s"})",
       R"(at: "" is not an RFC 3339 time in UTC to the millisecond)"},
      {R"({"kind":"incident","technology":"../etc","issue":"lag","severity":"MPI",)"
       R"("summary":"s","at":"2026-11-30T06:00:00.000Z"})",
       R"(technology "../etc" is not a slug)"},
      {R"({"kind":"incident","technology":"mysql","issue":"lag","severity":"P2",)"
       R"("summary":"s","at":"2026-11-30T06:00:00.000Z"})",
       R"(severity "P2" is not MPI or HPI)"},
      {R"({"kind":"resolve","incident_id":"i"})", "note: missing or not a string"},
      {R"({"kind":"ack","incident_id":"i","person":null})", "person: missing or not a string"},
  };
  for (const auto& [record, error] : cases) {
    auto parsed = parse_api_record(record);
    ASSERT_FALSE(parsed) << record;
    EXPECT_EQ(parsed.error(), error) << record;
  }
}

TEST(ApiReceiverTest, AcceptedBodiesRecordsParseBackTheSame) {
  auto role = parse_role_request(
      R"({"action":"join","role":"Secondary","person":"Ana","at":"2026-12-01T08:00:00.5Z"})",
      k_incident, k_now);
  ASSERT_TRUE(role) << role.error();
  auto back = record_payload<RoleRequest>(api_record(*role));
  EXPECT_EQ(back.incident_id, role->incident_id);
  EXPECT_EQ(back.role, role->role);
  EXPECT_EQ(back.person, role->person);
  EXPECT_EQ(back.at, role->at);
  auto manual = parse_manual_incident(
      R"({"technology":"kube state","issue":"OOM","severity":"HPI","summary":"s"})", k_now);
  ASSERT_TRUE(manual) << manual.error();
  auto manual_back = record_payload<ManualIncident>(api_record(*manual));
  EXPECT_EQ(manual_back.technology, "kube-state");
  EXPECT_EQ(manual_back.at, manual->at);
}

// calloutctl resolve and ack: an empty body is {}; the note is one line,
// bounded; records parse back the same.
TEST(ApiReceiverTest, ResolveAndAckBodies) {
  auto bare = parse_resolve_request("", k_incident);
  ASSERT_TRUE(bare) << bare.error();
  EXPECT_EQ(bare->incident_id, k_incident);
  EXPECT_EQ(bare->note, "");
  auto noted =
      parse_resolve_request(R"({"note":"  lag gone\n after the\u202e backup "})", k_incident);
  ASSERT_TRUE(noted) << noted.error();
  EXPECT_EQ(noted->note, "lag gone after the backup");
  auto back = record_payload<ResolveRequest>(api_record(*noted));
  EXPECT_EQ(back.incident_id, k_incident);
  EXPECT_EQ(back.note, noted->note);
  auto wordy = parse_resolve_request(json_note(std::string(501, 'x')), k_incident);
  ASSERT_FALSE(wordy);
  EXPECT_EQ(wordy.error(),
            "note: longer than 500 bytes (501); the postmortem is the place for more");
  EXPECT_EQ(parse_resolve_request(R"({"note":7})", k_incident).error(),
            R"(expected a JSON object {"note": "..."} (the note is optional))");

  auto ack = parse_ack_request(R"({"person":" Bo  Li "})", k_incident);
  ASSERT_TRUE(ack) << ack.error();
  EXPECT_EQ(ack->person, "Bo Li");
  auto ack_back = record_payload<AckRequest>(api_record(*ack));
  EXPECT_EQ(ack_back.incident_id, k_incident);
  EXPECT_EQ(ack_back.person, "Bo Li");
  EXPECT_TRUE(parse_ack_request(" ", k_incident));
  EXPECT_EQ(parse_ack_request("[]", k_incident).error(),
            R"(expected a JSON object {"person": "..."} (the person is optional))");
}

}  // namespace
}  // namespace calloutd::receivers
