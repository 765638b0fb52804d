#include "receivers/alertmanager.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace calloutd::receivers {
namespace {

using testing::sample;

TEST(AlertmanagerTest, ParsesFiringGroupWithEscapesAndUtf8) {
  auto g = parse_alertmanager(sample("am-0.25-firing-two-alerts.json"));
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g->receiver, "web\\.hook");
  EXPECT_EQ(g->status, AlertStatus::firing);
  ASSERT_EQ(g->alerts.size(), 2u);
  EXPECT_EQ(g->alerts[0].fingerprint, "6a2c18d0ace160b7");
  EXPECT_EQ(g->alerts[1].labels.at("instance"), "api-2:8080");
  EXPECT_EQ(g->alerts[0].annotations.at("description"),
            "p99 latency > 500ms & error budget burning (value <0.73s>) \xE2\x80\x94 see runbook");
  EXPECT_EQ(format_rfc3339_millis(g->alerts[0].starts_at), "2026-11-22T03:45:52.038Z");
  EXPECT_EQ(g->alerts[0].ends_at, TimePoint{});  // Go's zero time means "not ended"
  EXPECT_EQ(g->group_labels, (Labels{{"alertname", "HighRequestLatency"}}));
  EXPECT_EQ(g->truncated_alerts, 0);
}

TEST(AlertmanagerTest, ParsesResolvedAlertInsideFiringGroup) {
  auto g = parse_alertmanager(sample("am-0.25-firing-group-one-alert-resolved.json"));
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g->status, AlertStatus::firing);
  EXPECT_EQ(g->alerts[0].status, AlertStatus::resolved);
  EXPECT_EQ(format_rfc3339_millis(g->alerts[0].ends_at), "2026-11-22T03:47:56.158Z");
}

TEST(AlertmanagerTest, ParsesTruncatedAlerts) {
  auto g = parse_alertmanager(sample("am-0.25-firing-truncated-max-alerts-2.json"));
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g->truncated_alerts, 3);
  EXPECT_EQ(g->alerts.size(), 2u);
}

TEST(AlertmanagerTest, ParsesNewerFieldsItDoesNotUse) {
  auto g = parse_alertmanager(sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g->group_labels.size(), 2u);
  EXPECT_EQ(g->common_labels.at("severity"), "critical");
}

TEST(AlertmanagerTest, DerivesFingerprintWhenAbsent) {
  auto g = parse_alertmanager(sample("am-legacy-pre0.19-firing-three-alerts-no-fingerprint.json"));
  ASSERT_TRUE(g) << g.error();
  ASSERT_EQ(g->alerts.size(), 3u);
  EXPECT_EQ(g->alerts[0].fingerprint.size(), 16u);
  EXPECT_NE(g->alerts[0].fingerprint, g->alerts[1].fingerprint);
  EXPECT_EQ(g->alerts[0].fingerprint, labels_fingerprint(g->alerts[0].labels));
  // Nanosecond precision and no truncatedAlerts field.
  EXPECT_EQ(format_rfc3339_millis(g->alerts[0].starts_at), "2019-09-27T16:27:56.612Z");
  EXPECT_EQ(g->truncated_alerts, 0);
}

struct BadCase {
  const char* body;
  const char* error;
};

class AlertmanagerErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(AlertmanagerErrorTest, NamesTheProblem) {
  auto g = parse_alertmanager(GetParam().body);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error(), GetParam().error);
}

constexpr const char* k_alert =
    R"({"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-22T03:45:52Z"})";

std::string case_name(const ::testing::TestParamInfo<BadCase>& param) {
  return "Case" + std::to_string(param.index);
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, AlertmanagerErrorTest,
    ::testing::Values(
        BadCase{"{", "body is not valid JSON"}, BadCase{"[1]", "body is not a JSON object"},
        BadCase{R"({"status":"firing"})",
                "version: missing (not an Alertmanager webhook message?)"},
        BadCase{R"({"version":"3"})", "version: \"3\" is not supported (expected \"4\")"},
        BadCase{R"({"version":"4","status":"firing","groupLabels":{},"alerts":[]})",
                "receiver: missing"},
        BadCase{R"({"version":"4","receiver":"r","status":"on","groupLabels":{},"alerts":[]})",
                "status: \"on\" is neither \"firing\" nor \"resolved\""},
        BadCase{R"({"version":"4","receiver":"r","status":"firing","groupLabels":{},"alerts":[]})",
                "alerts: empty (a notification carries at least one alert)"},
        BadCase{
            R"({"version":"4","receiver":"r","status":"firing","groupLabels":{"a":1},"alerts":[]})",
            "groupLabels.a: expected a string"},
        BadCase{
            R"({"version":"4","receiver":"r","status":"firing","groupLabels":{},"alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"yesterday"}]})",
            "alerts[0].startsAt: \"yesterday\" is not an RFC 3339 time"},
        BadCase{
            R"({"version":"4","receiver":"r","status":"firing","groupLabels":{},"alerts":[{"status":"firing","startsAt":"2026-11-22T03:45:52Z"}]})",
            "alerts[0].labels: missing"},
        BadCase{R"({"version":"4","receiver":"r","status":"firing","groupLabels":{},"alerts":[7]})",
                "alerts[0]: expected an object"},
        BadCase{
            R"({"version":"4","receiver":"r","status":"firing","groupLabels":{},"truncatedAlerts":-1,"alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"2026-11-22T03:45:52Z"}]})",
            "truncatedAlerts: expected a non-negative integer"}),
    case_name);

// A bad value is quoted as a short excerpt, never whole: the error goes to the
// log and the 400 body, and a 1 MB value would put 1 MB in each.
TEST(AlertmanagerTest, ErrorsQuoteAShortExcerptOfAHugeValue) {
  const std::string huge(1'000'000, 'x');
  for (
      const std::string& body :
      {R"({"version":")" + huge + R"("})",
       R"({"version":"4","receiver":"r","status":")" + huge + R"(","groupLabels":{},"alerts":[]})",
       R"({"version":"4","receiver":"r","status":"firing","groupLabels":{},"alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":")" +
           huge + R"("}]})",
       R"({"version":"4","receiver":"r","status":"firing","groupLabels":{")" + huge +
           R"(":1},"alerts":[]})"}) {
    auto g = parse_alertmanager(body);
    ASSERT_FALSE(g);
    EXPECT_LT(g.error().size(), 300u) << g.error().substr(0, 300);
    EXPECT_NE(g.error().find(std::string(100, 'x') + "... (1000000 bytes)"), std::string::npos)
        << g.error().substr(0, 300);
  }
}

}  // namespace
}  // namespace calloutd::receivers
