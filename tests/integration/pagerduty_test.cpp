// The daemon binary receiving signed PagerDuty V3 webhooks on 127.0.0.1.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "daemon/base/hash.hpp"
#include "daemon/writeup/markdown.hpp"
#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::git;
using testing::TempDir;
using testing::write_file;

const std::string k_secret = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK";
const std::string k_old_secret = "the-secret-being-rotated-out";

std::string sign(const std::string& body, const std::string& secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &size);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out = "v1=";
  for (unsigned int i = 0; i < size; ++i) {
    out += k_hex[mac[i] >> 4];
    out += k_hex[mac[i] & 0xf];
  }
  return out;
}

// An event of incident `incident` made from the triggered sample.
std::string event(const std::string& incident, int number, const std::string& type,
                  const std::string& id, const std::string& when,
                  const std::function<void(json&)>& edit = {}) {
  json j = json::parse(testing::pagerduty_sample("pd-v3-incident.triggered.json"));
  auto& e = j["event"];
  e["event_type"] = type;
  e["id"] = id;
  e["occurred_at"] = when;
  e["data"]["id"] = incident;
  e["data"]["number"] = number;
  e["data"]["title"] = "Checkout latency " + std::to_string(number);
  e["data"]["html_url"] = "https://example.pagerduty.com/incidents/" + incident;
  if (edit) {
    edit(e);
  }
  return j.dump();
}

class PagerDutyDaemonTest : public ::testing::Test {
 protected:
  PagerDutyDaemonTest() {
    write_file(dir.path() / "pd.secret", k_secret + "\n");
    write_file(dir.path() / "pd-old.secret", k_old_secret + "\n");
    write_file(dir.path() / "calloutd.yml", R"(
repository:
  path: callouts
receivers:
  pagerduty:
    signing_secret_files: [pd-old.secret, pd.secret]
    services:
      PA2P440: checkout
)");
    daemon = std::make_unique<DaemonProcess>(
        dir.path(), std::vector<std::string>{"--config.file=calloutd.yml"});
  }

  httplib::Result post(const std::string& body, const std::string& webhook_id = "",
                       const std::string& secret = k_secret) {
    httplib::Headers h{{"X-PagerDuty-Signature", sign(body, secret)}};
    if (!webhook_id.empty()) {
      h.emplace("X-Webhook-Id", webhook_id);
    }
    return daemon->client()->Post("/api/v1/pagerduty", h, body, "application/json");
  }
  std::string file(const std::string& path) {
    return git(dir.path() / "callouts", "show main:" + path);
  }
  int commits() {
    int status = 0;
    auto out = git(dir.path() / "callouts", "rev-list --count main", &status);
    return status == 0 ? std::stoi(out) : 0;
  }
  bool settled(int n) {
    return testing::eventually(10, [&] { return commits() >= n; }) && testing::eventually(5, [&] {
             return daemon->client()
                        ->Get("/metrics")
                        ->body.find("calloutd_journal_pending_events 0") != std::string::npos;
           });
  }

  TempDir dir;
  std::unique_ptr<DaemonProcess> daemon;
};

TEST_F(PagerDutyDaemonTest, SignedSequenceBecomesOneCallout) {
  std::vector<std::string> sequence{
      event("PINC1", 41, "incident.triggered", "EV1", "2026-11-22T03:00:00Z"),
      event("PINC1", 41, "incident.acknowledged", "EV2", "2026-11-22T03:02:00Z"),
      event("PINC1", 41, "incident.reassigned", "EV3", "2026-11-22T03:05:00Z",
            [](json& e) {
              e["data"]["assignees"] = json::array({{{"id", "PU9"}, {"summary", "Alex Doe"}}});
            }),
      event("PINC1", 41, "incident.annotated", "EV4", "2026-11-22T03:07:00Z",
            [](json& e) {
              e["data"] = {{"incident", {{"id", "PINC1"}, {"summary", "Checkout latency 41"}}},
                           {"content", "Cache flushed."},
                           {"type", "incident_note"}};
            }),
      event("PINC1", 41, "incident.resolved", "EV5", "2026-11-22T03:10:00Z"),
  };
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    auto r = post(sequence[i], "W" + std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << r->body;
    EXPECT_EQ(json::parse(r->body)["status"], "accepted");
  }
  ASSERT_TRUE(settled(1));
  // PagerDuty's retries: the same deliveries again, and again with new
  // delivery ids (the event ids still match).
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    EXPECT_EQ(json::parse(post(sequence[i], "W" + std::to_string(i))->body)["status"], "duplicate");
    EXPECT_EQ(post(sequence[i], "retry-" + std::to_string(i))->status, 202);
  }
  ASSERT_TRUE(settled(1));
  int after_first = commits();
  auto folder = std::string("checkout/checkout-latency-41-2026-11-22/");
  auto callout = file(folder + "callout.md");
  EXPECT_EQ(markdown::key_text(callout, "Status"), "resolved");
  EXPECT_EQ(markdown::key_text(callout, "Severity"), "MPI");
  EXPECT_NE(callout.find("- Operations: Alex Doe\n"), std::string::npos);
  auto t = callout.substr(callout.find("## Incident timeline"));
  std::vector<std::size_t> at;
  for (const char* when : {"03:10:00", "03:07:00", "03:05:00", "03:02:00", "03:00:00"}) {
    at.push_back(t.find(std::string("2026-11-22 ") + when + " UTC - PagerDuty - "));
    ASSERT_NE(at.back(), std::string::npos) << when;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end()));  // newest first
  EXPECT_NE(t.find("note: Cache flushed."), std::string::npos);
  // Acknowledged 2 minutes after it opened, resolved after 10.
  auto metrics = daemon->client()->Get("/metrics")->body;
  EXPECT_NE(
      metrics.find(R"(calloutd_time_to_acknowledge_seconds_bucket{severity="MPI",le="300"} 1)"),
      std::string::npos);
  EXPECT_NE(
      metrics.find(R"(calloutd_time_to_acknowledge_seconds_bucket{severity="MPI",le="60"} 0)"),
      std::string::npos);
  EXPECT_NE(metrics.find(R"(calloutd_time_to_resolve_seconds_sum{severity="MPI"} 600)"),
            std::string::npos);
  // Nothing was applied twice: once every journaled event is applied, the
  // commits are the same.
  ASSERT_TRUE(testing::all_applied(dir.path() / "callouts" / ".git" / "calloutd"));
  EXPECT_EQ(commits(), after_first);
  EXPECT_EQ(t.find("note: Cache flushed.", t.find("note: Cache flushed.") + 1), std::string::npos);
  // The resolution says how long it lasted; every file passes the daemon's own lint.
  EXPECT_NE(
      t.find("resolved in PagerDuty; open for 10m (target 4h), acknowledged after 2m (target 15m)"),
      std::string::npos)
      << t;
  int lint_status = -1;
  auto lint = testing::lint_repository(dir.path() / "callouts", &lint_status);
  EXPECT_EQ(lint_status, 0) << lint;
  EXPECT_NE(lint.find(" 0 errors, 0 warnings in "), std::string::npos) << lint;
}

TEST_F(PagerDutyDaemonTest, OutOfOrderAcrossIncidents) {
  // Two incidents, their events interleaved and out of order.
  ASSERT_EQ(post(event("PA", 1, "incident.triggered", "A1", "2026-11-22T03:00:00Z"))->status, 202);
  ASSERT_EQ(post(event("PB", 2, "incident.resolved", "B3", "2026-11-22T03:20:00Z"))->status,
            202);  // unknown yet
  ASSERT_EQ(post(event("PB", 2, "incident.triggered", "B1", "2026-11-22T03:10:00Z"))->status, 202);
  ASSERT_EQ(post(event("PA", 1, "incident.resolved", "A3", "2026-11-22T03:30:00Z"))->status, 202);
  ASSERT_EQ(post(event("PA", 1, "incident.acknowledged", "A2", "2026-11-22T03:05:00Z"))->status,
            202);
  ASSERT_EQ(post(event("PB", 2, "incident.acknowledged", "B2", "2026-11-22T03:15:00Z"))->status,
            202);
  ASSERT_TRUE(settled(1));
  auto a = file("checkout/checkout-latency-1-2026-11-22/callout.md");
  auto b = file("checkout/checkout-latency-2-2026-11-22/callout.md");
  EXPECT_EQ(markdown::key_text(a, "Status"), "resolved");
  EXPECT_LT(a.find("03:30:00 UTC - PagerDuty"), a.find("03:05:00 UTC - PagerDuty"));
  // B's resolution came before its trigger and was dropped (the incident was unknown then).
  EXPECT_EQ(markdown::key_text(b, "Status"), "active");
  EXPECT_LT(b.find("03:15:00 UTC - PagerDuty"), b.find("03:10:00 UTC - PagerDuty"));
}

TEST_F(PagerDutyDaemonTest, AlertmanagerAndPagerDutyMergeInBothOrders) {
  // Alertmanager first, then PagerDuty for the same group.
  json am = json::parse(testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
  auto key = sha256_hex(am["groupKey"].get<std::string>());
  ASSERT_EQ(daemon->post_alertmanager(am.dump())->status, 200);
  ASSERT_TRUE(settled(1));
  ASSERT_EQ(post(event("PAM", 7, "incident.triggered", "M1", "2026-11-22T03:46:10Z",
                       [&](json& e) { e["data"]["incident_key"] = key; }))
                ->status,
            202);
  // PagerDuty first, then Alertmanager for another group.
  json am2 = am;
  am2["groupLabels"]["cluster"] = "us-2";
  am2["commonLabels"]["cluster"] = "us-2";
  for (auto& a : am2["alerts"]) {
    a["labels"]["cluster"] = "us-2";
  }
  am2["groupKey"] = R"({}/{team="db"}:{alertname="PostgresReplicationLag", cluster="us-2"})";
  auto key2 = sha256_hex(am2["groupKey"].get<std::string>());
  ASSERT_EQ(post(event("PPD", 8, "incident.triggered", "P1", "2026-11-22T03:46:10Z",
                       [&](json& e) { e["data"]["incident_key"] = key2; }))
                ->status,
            202);
  ASSERT_TRUE(settled(3));
  ASSERT_EQ(daemon->post_alertmanager(am2.dump())->status, 200);
  ASSERT_TRUE(settled(4));
  auto files = git(dir.path() / "callouts", "ls-tree -r --name-only main");
  EXPECT_EQ(files,
            ".calloutd/groups/71/71995bb45926aa1b.json\n"
            ".calloutd/groups/bc/pd-bce23533d6573672.json\n"
            ".calloutd/shifts.json\n"
            "README.md\n"
            "checkout/checkout-latency-8-2026-11-22/callout.md\n"
            "checkout/checkout-latency-8-2026-11-22/postmortem.md\n"
            "unclassified/postgres-replication-lag-2026-11-22/callout.md\n"
            "unclassified/postgres-replication-lag-2026-11-22/postmortem.md\n");  // two callouts,
                                                                                  // not four
  auto first = file("unclassified/postgres-replication-lag-2026-11-22/callout.md");
  EXPECT_NE(first.find("PagerDuty incident \\#7 joined this callout"), std::string::npos);
  auto second = file("checkout/checkout-latency-8-2026-11-22/callout.md");
  EXPECT_NE(
      second.find("Alertmanager - PostgresReplicationLag (instance=pg-replica-1:9187) firing"),
      std::string::npos);
}

TEST_F(PagerDutyDaemonTest, BadInputGetsTheDocumentedStatusAndWritesNothing) {
  auto body = event("PX", 5, "incident.triggered", "X1", "2026-11-22T03:00:00Z");
  auto client = daemon->client();
  struct Case {
    std::string body;
    httplib::Headers headers;
    int status;
    std::string answer;
  };
  std::vector<Case> cases{
      {body,
       {{"X-PagerDuty-Signature", sign(body, "wrong-secret")}},
       401,
       R"({"error":"no valid signature in X-PagerDuty-Signature"})"},
      {body, {}, 401, R"({"error":"missing X-PagerDuty-Signature header"})"},
      {"{nope",
       {{"X-PagerDuty-Signature", sign("{nope", k_secret)}},
       400,
       R"({"error":"not a PagerDuty V3 webhook: body is not valid JSON"})"},
      {testing::pagerduty_sample("pd-v3-service.updated.json"),
       {{"X-PagerDuty-Signature",
         sign(testing::pagerduty_sample("pd-v3-service.updated.json"), k_secret)}},
       202,
       R"({"reason":"service.updated is not an incident event","status":"ignored"})"},
      {std::string(300 * 1024, ' '),
       {{"X-PagerDuty-Signature", "v1=00"}},
       413,
       R"j({"error":"request body too large (receivers.pagerduty.max_body_bytes is 262144)"})j"},
  };
  for (const auto& c : cases) {
    auto r = client->Post("/api/v1/pagerduty", c.headers, c.body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << c.answer;
    EXPECT_EQ(r->body, c.answer);
  }
  // The old secret still verifies during rotation; a ping is answered 2xx.
  std::string ping =
      R"({"event":{"id":"01P","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-11-22T03:00:00Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}})";
  EXPECT_EQ(post(ping, "", k_old_secret)->status, 202);
  EXPECT_EQ(commits(), 0);
  EXPECT_EQ(testing::read_file(dir.path() / "callouts/.git/calloutd/journal.jsonl"), "");
  EXPECT_EQ(client->Get("/-/healthy")->status, 200);
  EXPECT_EQ(post(body, "", k_old_secret)->status, 202);
  EXPECT_TRUE(settled(1));
}

}  // namespace
}  // namespace calloutd
