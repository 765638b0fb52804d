// The action-item reader on tables as people write them.
#include "daemon/writeup/postmortem.hpp"

#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/render.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

using std::chrono::sys_days;

sys_days day(const char* ymd) {
  return std::chrono::floor<std::chrono::days>(*parse_rfc3339(std::string(ymd) + "T00:00:00Z"));
}

std::string pm(const std::string& table, const std::string& status = "draft") {
  return "# X - POSTMORTEM - 2026-11-22\n\n## Status\n\n" + status + "\n\n## Action Items\n\n" +
         table + "\n## Lessons learned\n\nn/a\n";
}

struct Variant {
  const char* name;
  std::string table;
  std::size_t items;
  std::size_t open;
  std::size_t overdue;  // on 2026-11-22
  std::vector<std::string> problems;
};

class ActionItemsTest : public ::testing::TestWithParam<Variant> {};

TEST_P(ActionItemsTest, ReadsWhatGithubShows) {
  const auto& v = GetParam();
  auto file = read_postmortem(pm(v.table), "pm.md");
  std::size_t open = 0, overdue = 0;
  for (const auto& i : file.items) {
    open += i.open();
    overdue += i.overdue(day("2026-11-22"));
  }
  EXPECT_EQ(file.items.size(), v.items);
  EXPECT_EQ(open, v.open);
  EXPECT_EQ(overdue, v.overdue);
  std::vector<std::string> problems;
  for (const auto& p : file.problems) {
    problems.push_back(p.to_string());
  }
  EXPECT_EQ(problems, v.problems);
}

const std::string k_head =
    "| Action Item | Type | Owner | Ticket | Due | Status |\n| --- | --- | --- | --- | --- | --- "
    "|\n";

std::string variant_name(const ::testing::TestParamInfo<Variant>& p) {
  return p.param.name;
}

INSTANTIATE_TEST_SUITE_P(
    Tables, ActionItemsTest,
    ::testing::Values(
        Variant{"AsTheTemplate",
                k_head + "| Add replica lag alert | prevent | Ana | OPS-1 | 2026-11-30 | TODO |\n",
                1,
                1,
                0,
                {}},
        Variant{"OverdueAndDone",
                k_head + "| a | mitigate | Ana | n/a | 2026-11-01 | TODO |\n| b | prevent | Bo | "
                         "n/a | 2026-11-01 | DONE |\n",
                2,
                1,
                1,
                {}},
        Variant{"DueTodayIsNotOverdue",
                k_head + "| a | process | Ana | n/a | 2026-11-22 | IN PROGRESS |\n",
                1,
                1,
                0,
                {}},
        Variant{"YesterdayIsOverdue",
                k_head + "| a | process | Ana | n/a | 2026-11-21 | in progress |\n",
                1,
                1,
                1,
                {}},
        Variant{"LowerCaseAndSpelledStatuses",
                k_head + "| a | other | x | n/a | 2026-01-01 | todo |\n| b | other | x | n/a | "
                         "2026-01-01 | In-Progress |\n"
                         "| c | other | x | n/a | 2026-01-01 | Won't Fix |\n| d | other | x | n/a "
                         "| 2026-01-01 | done |\n",
                4,
                2,
                2,
                {}},
        Variant{
            "ReorderedColumns",
            "| Status | Due | Action Item | Owner | Type | Ticket |\n|---|---|---|---|---|---|\n"
            "| TODO | 2026-11-01 | rotate keys | Ana | prevent | SEC-9 |\n",
            1,
            1,
            1,
            {}},
        Variant{"ExtraColumns",
                "| Action Item | Type | Owner | Ticket | Due | Status | Notes | Priority "
                "|\n|-|-|-|-|-|-|-|-|\n"
                "| a | prevent | Ana | n/a | 2026-11-01 | TODO | see thread | P2 |\n",
                1,
                1,
                1,
                {}},
        Variant{"PlaceholderAndEmptyRows",
                k_head + "| n/a | n/a | n/a | n/a | n/a | n/a |\n|  |  |  |  |  |  |\n| a | "
                         "prevent | Ana | n/a | n/a | TODO |\n",
                1,
                1,
                0,
                {}},
        Variant{"LinksAndCodeInCells",
                k_head + "| [Fix `max_connections`](https://x/1) | prevent | Ana | "
                         "[OPS-12](https://jira/OPS-12) | "
                         "2026-11-01 | **TODO** |\n",
                1,
                1,
                1,
                {}},
        Variant{"TableSplitByABlankLine",
                k_head + "| a | prevent | Ana | n/a | 2026-11-01 | TODO |\n\n| b | mitigate | Bo | "
                         "n/a | 2026-11-01 | TODO |\n"
                         "| c | mitigate | Bo | n/a | 2026-12-01 | TODO |\n",
                3,
                3,
                2,
                {}},
        Variant{"NoLeadingAndTrailingPipes",
                "Action Item | Type | Owner | Ticket | Due | Status\n--- | --- | --- | --- | --- | "
                "---\n"
                "a | prevent | Ana | n/a | 2026-11-01 | TODO\n",
                1,
                1,
                1,
                {}},
        Variant{"EscapedPipeInText",
                k_head + "| grep a \\| b in logs | process | Ana | n/a | 2026-11-01 | DONE |\n",
                1,
                0,
                0,
                {}},
        Variant{"BadDueDate",
                k_head + "| a | prevent | Ana | n/a | next week | TODO |\n",
                1,
                1,
                0,
                {"pm.md:11: Action Items: Due \"next week\" is not a date (YYYY-MM-DD)"}},
        Variant{"ImpossibleDate",
                k_head + "| a | prevent | Ana | n/a | 2026-02-30 | TODO |\n",
                1,
                1,
                0,
                {"pm.md:11: Action Items: Due \"2026-02-30\" is not a date (YYYY-MM-DD)"}},
        Variant{
            "UnknownTypeAndStatus",
            k_head + "| a | fix | Ana | n/a | 2026-11-01 | maybe |\n",
            1,
            1,
            1,
            {"pm.md:11: Action Items: Type \"fix\" is not one of mitigate, prevent, process, other",
             "pm.md:11: Action Items: Status \"maybe\" is not one of TODO, IN PROGRESS, DONE, "
             "WONTFIX"}},
        Variant{"MissingStatusColumn",
                "| Action Item | Type | Owner | Ticket | Due |\n|---|---|---|---|---|\n| a | "
                "prevent | Ana | n/a | 2026-11-01 |\n",
                0,
                0,
                0,
                {"pm.md:9: Action Items: no \"status\" column (expected | Action Item | Type | "
                 "Owner | Ticket | Due | "
                 "Status |)"}},
        Variant{"NoTableAtAll", "n/a\n", 0, 0, 0, {}},
        Variant{
            "TwoTables",
            k_head +
                "| a | prevent | Ana | n/a | 2026-11-01 | TODO |\n\nFollow-ups from review:\n\n" +
                k_head + "| b | process | Bo | n/a | 2026-11-01 | TODO |\n",
            2,
            2,
            2,
            {}}),
    variant_name);

TEST(PostmortemTest, StatusAndReview) {
  std::string doc =
      pm(k_head, "In Review") +
      "\n## Review\n\n- Reviewers: Ana, Bo\n- Review date: 2026-11-23\n\n### Checklist\n\n"
      "- [x] Incident data collected for posterity\n- [ ] Impact assessment complete\n";
  auto file = read_postmortem(doc, "pm.md");
  EXPECT_EQ(file.status, "in review");
  EXPECT_EQ(file.reviewers, std::vector<std::string>{"Ana, Bo"});
  EXPECT_EQ(file.unchecked, std::vector<std::string>{" Impact assessment complete"});
  EXPECT_TRUE(file.problems.empty());
}

TEST(PostmortemTest, MissingKeysAreProblems) {
  auto file = read_postmortem("# X\n\nsome text\n", "a/b/postmortem.md");
  ASSERT_EQ(file.problems.size(), 2u);
  EXPECT_EQ(file.problems[0].to_string(), "a/b/postmortem.md:1: the Status key is missing");
  EXPECT_EQ(file.problems[1].to_string(), "a/b/postmortem.md:1: the Action Items key is missing");
}

TEST(CalloutFileTest, StatusSeverityAndLastEntry) {
  auto c = read_callout(
      "## Severity\n\nmpi\n\n## Status\n\nResolved\n\n## Incident timeline\n\n"
      "- 2026-11-22 04:00:00 UTC - Alertmanager - b\n- 2026-11-22 03:00:00 UTC - x - a\n- note "
      "without time\n",
      "c.md");
  EXPECT_EQ(c.status, "resolved");
  EXPECT_EQ(c.severity, "MPI");
  EXPECT_EQ(c.last_entry, parse_rfc3339("2026-11-22T04:00:00Z"));
  EXPECT_TRUE(c.problems.empty());
  auto bad = read_callout("## Status\n\nmaybe\n", "c.md");
  EXPECT_EQ(bad.problems.size(), 2u);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

TEST(CalloutFileTest, TeamRolesAsPeopleEditThem) {
  auto c = read_callout(
      "## Status\n\nactive\n\n## Severity\n\nHPI\n\n## Team roles\n\n"
      "* Secondary:    Bo  Builder  \n"
      "- operations: Ana\n"
      "- Current Incident Lead: n/a\n"
      "- Manager:\n"
      "- Next Incident Lead: n/a (handover due by 2026-11-22 07:46:06 UTC)\n"
      "- Caterer: Cy\n",
      "c.md");
  EXPECT_EQ(c.roles, (std::map<std::string, std::string>{{"Current Incident Lead", ""},
                                                         {"Manager", ""},
                                                         {"Operations", "Ana"},
                                                         {"Secondary", "Bo  Builder"}}));
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// The review gate on the embedded template: all n/a, then written.
TEST(ReviewGateTest, AReviewNeedsTheNarrativeAuthorsReviewersAndActionItems) {
  const std::string blank = Templates::embedded().render_postmortem(CalloutView{});
  EXPECT_EQ(transition_blockers(read_postmortem(blank, "pm.md"), "in review"),
            (std::vector<std::string>{
                "Summary: not written yet (still n/a)", "Impact: not written yet (still n/a)",
                "Root causes: not written yet (still n/a)", "Trigger: not written yet (still n/a)",
                "Resolution: not written yet (still n/a)",
                "Authors: none named (roles, not names, until the review)",
                "Action Items: none, and no sentence saying why none are "
                "needed",
                "Review: no reviewers named"}));
  EXPECT_TRUE(transition_blockers(read_postmortem(blank, "pm.md"), "draft").empty());

  std::string written = blank;
  for (const char* key : {"Summary", "Impact", "Root causes", "Trigger", "Resolution"}) {
    written = markdown::set_key(written, key, "The disk filled.");
  }
  written = markdown::set_key(written, "Authors", "Incident Lead");
  written = markdown::set_list_item(written, "Review", "Reviewers", "Database team");
  auto with_row = markdown::set_key(
      written, "Action Items",
      "| Action Item | Type | Owner | Ticket | Due | Status |\n| --- | --- | --- | --- | --- | "
      "--- |\n| Alert on disk use | prevent | DB team | n/a | 2026-12-01 | TODO |");
  EXPECT_TRUE(transition_blockers(read_postmortem(with_row, "pm.md"), "in review").empty());
  auto explained = markdown::set_key(
      written, "Action Items",
      "None: the disk was replaced.\n\n| Action Item | Type | Owner | Ticket | Due | Status |\n"
      "| --- | --- | --- | --- | --- | --- |");
  EXPECT_TRUE(transition_blockers(read_postmortem(explained, "pm.md"), "in review").empty());
  // Publishing also needs the review first and every box ticked.
  auto publish = transition_blockers(read_postmortem(explained, "pm.md"), "published");
  ASSERT_EQ(publish.size(), 6u);
  EXPECT_EQ(publish[0], "the postmortem is \"draft\": it goes to review before it is published");
}

}  // namespace
}  // namespace calloutd
