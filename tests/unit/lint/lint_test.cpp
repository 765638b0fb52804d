// The write-up linter on text: each rule, its positions, and the traps.
// (The corpus of whole write-ups is checked through calloutctl in
// tests/integration/lint_test.cpp.)
#include "daemon/lint/lint.hpp"

#include <gtest/gtest.h>

#include "daemon/writeup/render.hpp"

namespace calloutd {
namespace {

lint::Context context() {
  auto t = Templates::embedded();
  lint::Context c;
  c.callout_template = t.callout_source();
  c.postmortem_template = t.postmortem_source();
  c.names = {"Ana Diaz", "Will Grant"};
  return c;
}

std::vector<std::string> lines_of(const std::vector<lint::Diagnostic>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) {
    out.push_back(d.to_string());
  }
  return out;
}

const char* k_path = "mysql/high-replication-lag-2026-11-22/postmortem.md";

// A postmortem with every key, one section's text replaced by `resolution`.
std::string postmortem(const std::string& resolution, const std::string& items = "") {
  return "# Replication lag - POSTMORTEM - 2026-11-22\n\n## Incident Number\n\nam-1\n\n"
         "## Authors\n\nOperations\n\n## Status\n\ndraft\n\n## Summary\n\nn/a\n\n"
         "## Impact\n\nn/a\n\n## Root causes\n\nn/a\n\n## Trigger\n\nn/a\n\n"
         "## Resolution\n\n" +
         resolution +
         "\n\n## Detection\n\nn/a\n\n## Action Items\n\n"
         "| Action Item | Type | Owner | Ticket | Due | Status |\n| --- | --- | --- | --- | --- | "
         "--- |\n" +
         items +
         "\n## Lessons learned\n\n### What went well\n\nn/a\n\n### What went badly\n\nn/a\n\n"
         "### Where we got lucky\n\nn/a\n\n## Timeline\n\n"
         "- 2026-11-22 03:00:00 UTC - Alertmanager - firing\n"
         "- 2026-11-22 04:00:00 UTC - Alertmanager - resolved\n\n"
         "## Supporting Information\n\nn/a\n\n## Review\n\n- Reviewers: Will Grant\n\n"
         "### Checklist\n\n- [ ] Impact assessment complete\n";
}

std::vector<std::string> check(const std::string& text) {
  return lines_of(lint::check_file(k_path, text, lint::Kind::postmortem, context()));
}

TEST(LintTest, ACompletePostmortemIsClean) {
  EXPECT_EQ(check(postmortem("The replica was rebuilt from a snapshot.")),
            std::vector<std::string>{});
}

TEST(LintTest, PronounsAreErrorsTheyIsAWarning) {
  // Line 33 is the Resolution paragraph.
  EXPECT_EQ(check(postmortem("Then he restarted it and they watched.")),
            (std::vector<std::string>{
                std::string(k_path) + ":33:6: error: pronoun \"he\" in Resolution (write what the "
                                      "system did, not who) [pronoun]",
                std::string(k_path) + ":33:26: warning: pronoun \"they\" in Resolution (if it "
                                      "names a person, write the role or the system instead) "
                                      "[pronoun]"}));
}

TEST(LintTest, QuotesCodeLinksAndIdentifiersAreNotFlagged) {
  EXPECT_EQ(check(postmortem("The page said \"we are down\", `my.cnf` was read, see "
                             "[what he wrote](https://x.example/), my-service and I/O and US "
                             "regions, i.e. fine.\n\n> I was there.")),
            std::vector<std::string>{});
}

TEST(LintTest, NamesOutsideTeamRolesAndOwnerAreErrorsButAWordIsNotAName) {
  auto out =
      check(postmortem("Ana Diaz rebuilt the replica; the job will retry. Later Grant checked.",
                       "| Rebuild | mitigate | Ana Diaz | OPS-1 | 2026-12-01 | TODO |\n"));
  EXPECT_EQ(out,
            (std::vector<std::string>{
                std::string(k_path) + ":33:1: error: name \"Ana Diaz\" in Resolution (names "
                                      "belong in Team roles and the Owner column only) [name]",
                std::string(k_path) + ":33:57: error: name \"Grant\" in Resolution (names "
                                      "belong in Team roles and the Owner column only) [name]"}));
}

std::vector<std::string> check_with_names(const std::string& text, std::set<std::string> names) {
  auto c = context();
  c.names = std::move(names);
  return lines_of(lint::check_file(k_path, text, lint::Kind::postmortem, c));
}

// A holder named like the daemon's own words ("callout bot") is matched as
// people write names: the whole name, or a capitalised part of it, on word
// boundaries; the daemon's "callout opened" is not a mention of them.
TEST(LintTest, NamesMatchAsWrittenNotTheDaemonsOwnWords) {
  auto text = postmortem("The replica was rebuilt from a snapshot.");
  text.replace(text.find("Alertmanager - firing"), 21,
               "Alertmanager - HighReplicationLag firing (1 alert); callout opened as MPI");
  EXPECT_EQ(check_with_names(text, {"callout bot"}), std::vector<std::string>{});
  EXPECT_EQ(
      check_with_names(postmortem("Then callout bot restarted the replica."), {"callout bot"}),
      (std::vector<std::string>{std::string(k_path) +
                                ":33:6: error: name \"callout bot\" in Resolution (names belong "
                                "in Team roles and the Owner column only) [name]"}));
}

TEST(LintTest, NamesWithLettersBeyondAsciiAreWholeWords) {
  EXPECT_EQ(
      check_with_names(postmortem("The replica was rebuilt; later Zoë checked it."), {"Zoë Lind"}),
      (std::vector<std::string>{std::string(k_path) +
                                ":33:32: error: name \"Zoë\" in Resolution (names belong "
                                "in Team roles and the Owner column only) [name]"}));
  EXPECT_EQ(check_with_names(postmortem("The Zoëlle cluster was rebuilt."), {"Zoë Lind"}),
            std::vector<std::string>{});
}

TEST(LintTest, BlamingWordsAreWarnings) {
  auto out = check(postmortem("The operator should have known; a careless change."));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], std::string(k_path) +
                        ":33:14: warning: blaming words \"should have known\" in Resolution "
                        "(say what the people on call could see at the time, and what was "
                        "missing from it) [blame]");
  EXPECT_EQ(out[1], std::string(k_path) +
                        ":33:35: warning: blaming words \"careless\" in Resolution "
                        "(describe what happened and what the system allowed) [blame]");
}

// Each blaming phrase once, the longest that matches ("forgot to", not also
// "forgot"), with the blameless way to say it; "broken" and "forgotten" are
// not "broke" and "forgot".
TEST(LintTest, BlamingPhrasesSuggestTheBlamelessWording) {
  auto out = check(postmortem(
      "It broke; it was his fault; someone forgot to drain it. A broken disk, a forgotten step."));
  ASSERT_EQ(out.size(), 4u) << ::testing::PrintToString(out);
  EXPECT_NE(out[0].find(":33:4: warning: blaming words \"broke\" in Resolution (say what "
                        "changed and what the system failed to handle: \"the deploy changed the "
                        "pool size; the service failed to handle the load\") [blame]"),
            std::string::npos)
      << out[0];
  EXPECT_NE(out[1].find(":33:18: error: pronoun \"his\""), std::string::npos) << out[1];
  EXPECT_NE(out[2].find(":33:18: warning: blaming words \"his fault\""), std::string::npos);
  EXPECT_NE(out[3].find(":33:37: warning: blaming words \"forgot to\" in Resolution (say what "
                        "the process lacked"),
            std::string::npos)
      << out[3];
}

// Built-in given names are names in the narrative, except at the start of a
// sentence ("Will this recur?"), as months ("3 May"), in quotes and code, or
// when the repository's allow list has them; the first names of people
// known here are names at the start of a sentence too.
TEST(LintTest, GivenNamesAndTheAllowList) {
  auto c = context();
  c.names = {"Ana Diaz", "Pat Grant"};
  auto run = [&](const std::string& text) {
    return lines_of(lint::check_file(k_path, postmortem(text), lint::Kind::postmortem, c));
  };
  EXPECT_EQ(run("The deploy by John filled the pool."),
            (std::vector<std::string>{
                std::string(k_path) +
                ":33:15: error: name \"John\" in Resolution (names belong in Team roles and the "
                "Owner column only; a word that is not a person here goes in the repository's "
                "lint-allow.txt) [name]"}));
  EXPECT_EQ(run("Will this recur? On 3 May the pool filled; \"John\" and `Max` are quoted."),
            std::vector<std::string>{});
  EXPECT_EQ(run("Grant restarted the pool.").size(), 1u) << "a known person's first name";
  EXPECT_EQ(run("The Max pool setting and the Jenkins job.").size(), 1u);
  c.allowed_words = {"Max", "Grant"};
  EXPECT_EQ(run("The Max pool setting and the Jenkins job."), std::vector<std::string>{});
  EXPECT_EQ(run("Grant restarted the pool."), std::vector<std::string>{});
  EXPECT_EQ(run("The pool was then restarted by Grant.").size(), 1u)
      << "allowed at a sentence start only: Pat Grant is a person here";
}

TEST(LintTest, ActionItemRowsAreChecked) {
  auto out =
      check(postmortem("n/a",
                       "| Rebuild | fix | n/a |  | next week | todo |\n"
                       "| n/a | n/a | n/a | n/a | n/a | n/a |\n"
                       "| Alert on lag | prevent | DB team | n/a | 2026-02-30 | BLOCKED |\n"));
  EXPECT_EQ(out, (std::vector<std::string>{
                     std::string(k_path) + ":43:13: error: type \"fix\" is not one of mitigate, "
                                           "prevent, process, other [action-items]",
                     std::string(k_path) + ":43:19: error: action item without an Owner (a team "
                                           "or a person) [action-items]",
                     std::string(k_path) + ":43:26: error: action item without a Ticket (a "
                                           "ticket number or link, else n/a) [action-items]",
                     std::string(k_path) + ":43:28: error: due \"next week\" is not a date "
                                           "(YYYY-MM-DD) [action-items]",
                     std::string(k_path) + ":43:40: warning: status \"todo\" is written TODO "
                                           "[action-items]",
                     std::string(k_path) + ":45:44: error: due \"2026-02-30\" is not a date "
                                           "(YYYY-MM-DD) [action-items]",
                     std::string(k_path) + ":45:57: error: status \"BLOCKED\" is not one of TODO, "
                                           "IN PROGRESS, DONE, WONTFIX [action-items]"}));
}

TEST(LintTest, MissingEmptyAndMisplacedKeys) {
  auto text = postmortem("n/a");
  // Impact removed, Trigger emptied, Detection moved before Summary.
  text.replace(text.find("## Impact\n\nn/a\n\n"), 16, "");
  text.replace(text.find("## Trigger\n\nn/a\n\n"), 17, "## Trigger\n\n");
  text.replace(text.find("## Detection\n\nn/a\n\n"), 19, "");
  text.replace(text.find("## Summary"), 0, "## Detection\n\nn/a\n\n");
  auto out = check(text);
  EXPECT_EQ(out, (std::vector<std::string>{
                     std::string(k_path) + ":15:1: error: key \"Detection\" is out of order: the "
                                           "template puts it after \"Resolution\" [keys]",
                     std::string(k_path) + ":23:1: error: missing key \"Impact\" (never remove a "
                                           "key: write n/a where it does not apply) [keys]",
                     std::string(k_path) + ":27:1: error: key \"Trigger\" has no value (write n/a "
                                           "where it does not apply) [empty-key]"}));
}

TEST(LintTest, TitleLineAndItsDate) {
  auto text = postmortem("n/a");
  text.replace(0, text.find('\n'), "# Replication lag - POSTMORTEM - 2026-11-23");
  EXPECT_EQ(check(text), (std::vector<std::string>{std::string(k_path) +
                                                   ":1:1: warning: the title's date 2026-11-23 "
                                                   "differs from the folder's 2026-11-22 [keys]"}));
  text.replace(0, text.find('\n'), "# Replication lag - CALLOUT - 2026-11-22");
  EXPECT_EQ(check(text),
            (std::vector<std::string>{std::string(k_path) +
                                      ":1:1: error: the title line is not \"<summary> - "
                                      "POSTMORTEM - <YYYY-MM-DD>\" [keys]"}));
  // No title at all: reported on line 1.
  text.erase(0, text.find('\n') + 1);
  EXPECT_EQ(check(text),
            (std::vector<std::string>{std::string(k_path) +
                                      ":1:1: error: the title line is not \"<summary> - "
                                      "POSTMORTEM - <YYYY-MM-DD>\" [keys]"}));
}

TEST(LintTest, AMissingLastKeyIsReportedAtTheEnd) {
  auto text = postmortem("n/a");
  text.erase(text.find("## Review"));
  text += "n/a\n";
  EXPECT_EQ(check(text), (std::vector<std::string>{
                             std::string(k_path) + ":67:1: error: missing key \"Review\" (never "
                                                   "remove a key: write n/a where it does not "
                                                   "apply) [keys]",
                             std::string(k_path) + ":67:1: error: missing key \"Checklist\" "
                                                   "(never remove a key: write n/a where it does "
                                                   "not apply) [keys]"}));
}

TEST(LintTest, ActionItemsWithoutATable) {
  auto text = postmortem("n/a");
  auto table = text.find("| Action Item");
  text.erase(table, text.find("\n## Lessons") - table);
  text.insert(table, "n/a\n");
  EXPECT_EQ(check(text), (std::vector<std::string>{std::string(k_path) +
                                                   ":39:1: error: Action Items has no table (keep "
                                                   "the header row: | Action Item | Type | Owner "
                                                   "| Ticket | Due | Status |) [action-items]"}));
}

TEST(LintTest, TimelinesParseAndAreOrdered) {
  auto text = postmortem("n/a");
  text.replace(text.find("- 2026-11-22 04:00:00 UTC"), 25, "- 2026-11-22 02:00:00 UTC");
  text.replace(text.find("## Supporting"), 0, "- at some point - things happened\n\n");
  auto out = check(text);
  ASSERT_EQ(out.size(), 2u) << ::testing::PrintToString(out);
  EXPECT_NE(out[0].find("error: timeline entry 2026-11-22 02:00:00 UTC is older than the one "
                        "above it (the postmortem's timeline is oldest first) [timeline]"),
            std::string::npos);
  EXPECT_NE(out[1].find("error: timeline entry does not start with a UTC time"), std::string::npos);
}

TEST(LintTest, LayoutAndSlugs) {
  EXPECT_TRUE(lint::check_layout("mysql/high-replication-lag-2026-11-22/callout.md").empty());
  EXPECT_TRUE(lint::check_layout("mysql/high-replication-lag-2026-11-22-2/postmortem.md").empty());
  EXPECT_EQ(lines_of(lint::check_layout("MySQL/HighLag-2026-11-22/callout.md")),
            (std::vector<std::string>{
                "MySQL/HighLag-2026-11-22/callout.md: error: technology folder \"MySQL\" is not "
                "a slug (\"mysql\") [layout]",
                "MySQL/HighLag-2026-11-22/callout.md: error: callout folder "
                "\"HighLag-2026-11-22\" is not <issue>-<YYYY-MM-DD>[-N] (issue in kebab-case, N "
                "from 2) [layout]"}));
  EXPECT_FALSE(lint::check_layout("mysql/lag-2026-13-01/callout.md").empty());
  EXPECT_FALSE(lint::check_layout("mysql/lag-2026-11-22-1/callout.md").empty());
  EXPECT_FALSE(lint::check_layout("notes/callout.md").empty());
}

}  // namespace
}  // namespace calloutd
