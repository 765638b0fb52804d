#include "daemon/writeup/render.hpp"

#include <gtest/gtest.h>

#include "daemon/writeup/markdown.hpp"

namespace calloutd {
namespace {

CalloutView view() {
  CalloutView v;
  v.summary_title = "Replication lag # above 30s";
  v.date = "2026-11-22";
  v.incident_number = "am-0123456789";
  v.severity = "MPI";
  v.summary = "mysql service is creating lag failures due to <disk>";
  v.status = "active";
  v.opened_at = "2026-11-22 03:46:06 UTC";
  v.handover_due = "2026-11-22 07:46:06 UTC";
  v.first_timeline_entry = "2026-11-22 03:46:06 UTC - Alertmanager - opened";
  v.dashboard = "[Dashboard](https://grafana.example/d/x)";
  v.alert_source = "[Prometheus graph](http://prom/graph)";
  v.runbook = "n/a";
  v.detection = "Alertmanager alert X";
  v.labels_table = "| alertname |\n| --- |\n| X |";
  v.previous_occurrences = "n/a";
  return v;
}

// The keys of TEMPLATES.md, in order, as headings of the shipped templates.
TEST(RenderTest, CalloutHasEveryKeyInOrder) {
  auto text = Templates::embedded().render_callout(view());
  EXPECT_EQ(markdown::headings(text),
            (std::vector<std::string>{
                "Replication lag # above 30s - CALLOUT - 2026-11-22", "Incident Number", "Severity",
                "Summary", "Status", "Engineer updates", "Team roles", "Detailed Status",
                "Exit Criteria", "Overview of actions taken", "Incident timeline",
                "Supporting Information", "Alert labels", "Previous occurrences"}));
  for (const char* role :
       {"- Current Incident Lead: n/a", "- Operations: n/a", "- Secondary: n/a", "- Planning: n/a",
        "- Communications: n/a", "- Manager: n/a",
        "- Next Incident Lead: n/a (handover due by 2026-11-22 07:46:06 UTC)",
        "- Dashboard: [Dashboard](https://grafana.example/d/x)",
        "- Alert source: [Prometheus graph](http://prom/graph)", "- Runbook: n/a"}) {
    EXPECT_NE(text.find(role), std::string::npos) << role;
  }
  EXPECT_EQ(markdown::key_text(text, "Status"), "active");
  EXPECT_EQ(markdown::key_text(text, "Severity"), "MPI");
  // Plain fields are markdown-escaped: no HTML from the alert reaches the file.
  EXPECT_NE(text.find("due to \\<disk\\>"), std::string::npos);
  EXPECT_NE(text.find("# Replication lag \\# above 30s - CALLOUT - 2026-11-22\n"),
            std::string::npos);
}

TEST(RenderTest, PostmortemHasEveryKeyInOrder) {
  auto text = Templates::embedded().render_postmortem(view());
  EXPECT_EQ(
      markdown::headings(text),
      (std::vector<std::string>{
          "Replication lag # above 30s - POSTMORTEM - 2026-11-22", "Incident Number", "Authors",
          "Status", "Summary", "Impact", "Root causes", "Trigger", "Resolution", "Detection",
          "Action Items", "Lessons learned", "What went well", "What went badly",
          "Where we got lucky", "Timeline", "Supporting Information", "Review", "Checklist"}));
  EXPECT_NE(text.find("am-0123456789 ([callout](./callout.md))"), std::string::npos);
  EXPECT_NE(text.find("| Action Item | Type | Owner | Ticket | Due | Status |"), std::string::npos);
  EXPECT_EQ(markdown::key_text(text, "Status"), "draft");
  EXPECT_EQ(std::count(text.begin(), text.end(), '['), 8);  // 5 checklist boxes + 3 links
}

TEST(RenderTest, DashboardTemplatesEncodeLabelValues) {
  EXPECT_EQ(render_url_template("https://g/d/pg?var-cluster={{cluster}}&var-i={{instance}}",
                                {{"cluster", "eu 1&x"}, {"instance", "pg:9187"}}),
            "https://g/d/pg?var-cluster=eu%201%26x&var-i=pg%3A9187");
}

// A parameter whose placeholder names a label the alert lacks is left out
// (Grafana then uses the variable's default) rather than sent empty.
TEST(RenderTest, DashboardParametersOfMissingLabelsAreLeftOut) {
  EXPECT_EQ(render_url_template("https://g/d/pg?var-cluster={{cluster}}&var-i={{instance}}",
                                {{"instance", "pg:9187"}}),
            "https://g/d/pg?var-i=pg%3A9187");
  EXPECT_EQ(render_url_template("https://g/d/pg?var-cluster={{cluster}}&var-i={{instance}}#p",
                                {{"cluster", "eu"}}),
            "https://g/d/pg?var-cluster=eu#p");
  EXPECT_EQ(render_url_template("https://g/d/pg?var-cluster={{{cluster}}}&orgId=1", {}),
            "https://g/d/pg?orgId=1");
}

TEST(RenderTest, BrokenTeamTemplatesAreReported) {
  EXPECT_FALSE(check_template("{{#open}} never closed"));
  EXPECT_TRUE(check_template("{{fine}}"));
  auto missing = Templates::load("/nonexistent-dir");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "/nonexistent-dir/callout.md: cannot read the template");
}

}  // namespace
}  // namespace calloutd
