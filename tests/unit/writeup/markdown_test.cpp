#include "daemon/writeup/markdown.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/test_support.hpp"

#include "daemon/writeup/render.hpp"

namespace calloutd::markdown {
namespace {

using testing::at;

const std::string k_doc =
    "# T - CALLOUT - 2026-11-22\n"
    "\n"
    "## Status\n"
    "\n"
    "active\n"
    "\n"
    "## Incident timeline\n"
    "\n"
    "- 2026-11-22 04:00:00 UTC - Alertmanager - second\n"
    "- 2026-11-22 03:00:00 UTC - Alertmanager - first\n"
    "\n"
    "## Supporting Information\n"
    "\n"
    "- Dashboard: n/a\n";

// Issue 26: each timeline entry parsed the whole callout again (a 4,000-alert
// group half resolving held the engine 20 s). add_list_entries() adds them in
// one pass; it must leave exactly what adding them one at a time leaves, for
// every shape of timeline people may have left.
TEST(MarkdownTest, AddingEntriesAtOnceEqualsAddingThemOneByOne) {
  const std::vector<std::string> docs = {
      k_doc,
      "# T\n\n## Incident timeline\n\nn/a\n\n## Next\n\ntext\n",
      "# T\n\n## Status\n\nactive\n",  // the key deleted
      "# T\n\n## Incident timeline\n\n## Next\n",
      "# T\n\n## Incident timeline\n\nSome words first.\n",
      "# T\r\n\r\n## Incident timeline\r\n\r\n* 2026-11-22 03:00 UTC - by hand\r\n"
      "* no time here\r\n* 2026-11-22 05:00:00 UTC - later\r\n  continued\r\n\r\n"
      "* 2026-11-22 01:00:00 UTC - loose item\r\n"};
  // (Not a numbered list: a `-` entry after `1.` starts a list of its own,
  // which one-at-a-time adding then steps over, leaving its entries in
  // reverse order of adding; at once they are in time order.)
  std::mt19937 random(26);
  const auto base = at("2026-11-22T00:00:00Z");
  for (int round = 0; round < 200; ++round) {
    const auto& doc = docs[static_cast<std::size_t>(round) % docs.size()];
    std::vector<ListEntry> entries;
    const int count = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) {
      // Times on whole minutes and in between, often equal, so that ties are tried.
      auto when = base + std::chrono::seconds(random() % 8 * 1800 + random() % 3 * 1);
      auto text = random() % 5 == 0 ? "no time " + std::to_string(i)
                                    : format_utc(when) + " - entry " + std::to_string(i);
      entries.push_back({when + std::chrono::milliseconds(random() % 1000), text});
    }
    for (auto order : {Order::newest_first, Order::oldest_first}) {
      std::string one_by_one = doc;
      for (const auto& e : entries) {
        one_by_one = add_list_entry(one_by_one, "Incident timeline", e.when, e.text, order);
      }
      ASSERT_EQ(add_list_entries(doc, "Incident timeline", entries, order), one_by_one)
          << "round " << round << ", document:\n"
          << doc;
    }
  }
}

TEST(MarkdownTest, NewestEntryGoesFirst) {
  auto out = add_list_entry(k_doc, "Incident timeline", at("2026-11-22T05:00:00Z"),
                            "2026-11-22 05:00:00 UTC - Alertmanager - third", Order::newest_first);
  EXPECT_NE(out.find("## Incident timeline\n\n- 2026-11-22 05:00:00 UTC - Alertmanager - third\n"
                     "- 2026-11-22 04:00:00 UTC"),
            std::string::npos)
      << out;
}

TEST(MarkdownTest, LateEntryIsPlacedByItsTime) {
  auto out = add_list_entry(k_doc, "Incident timeline", at("2026-11-22T03:30:00Z"),
                            "2026-11-22 03:30:00 UTC - x - middle", Order::newest_first);
  EXPECT_NE(out.find("second\n- 2026-11-22 03:30:00 UTC - x - middle\n- 2026-11-22 03:00:00"),
            std::string::npos)
      << out;
  auto oldest = add_list_entry(k_doc, "Incident timeline", at("2026-11-22T02:00:00Z"),
                               "2026-11-22 02:00:00 UTC - x - z", Order::newest_first);
  EXPECT_NE(oldest.find("first\n- 2026-11-22 02:00:00 UTC - x - z\n\n## Supporting"),
            std::string::npos)
      << oldest;
}

TEST(MarkdownTest, KeepsAnEngineersHandEditsAroundTheEntry) {
  // CRLF line endings, `*` bullets, a hand-written entry without a time, a note
  // paragraph, a lower-case heading, and a nested bullet.
  std::string doc =
      "# T\r\n\r\n## incident TIMELINE:\r\n\r\nNote: call the DBA team first.\r\n\r\n"
      "* 04:10 roughly - Operations - restarted the replica by hand\r\n"
      "* 2026-11-22 04:00:00 UTC - Operations - failover started\r\n"
      "  * sub-note about the failover\r\n"
      "\r\n## Supporting Information\r\n";
  auto out =
      add_list_entry(doc, "Incident timeline", at("2026-11-22T04:05:00Z"),
                     "2026-11-22 04:05:00 UTC - Alertmanager - resolved", Order::newest_first);
  EXPECT_EQ(out,
            "# T\r\n\r\n## incident TIMELINE:\r\n\r\nNote: call the DBA team first.\r\n\r\n"
            "* 04:10 roughly - Operations - restarted the replica by hand\r\n"
            "* 2026-11-22 04:05:00 UTC - Alertmanager - resolved\r\n"
            "* 2026-11-22 04:00:00 UTC - Operations - failover started\r\n"
            "  * sub-note about the failover\r\n"
            "\r\n## Supporting Information\r\n");
}

TEST(MarkdownTest, OldestFirstOrderForPostmortems) {
  std::string doc = "## Timeline\n\n- 2026-11-22 03:00:00 UTC - a\n- 2026-11-22 04:00:00 UTC - b\n";
  auto out = add_list_entry(doc, "Timeline", at("2026-11-22T03:30:00Z"),
                            "2026-11-22 03:30:00 UTC - c", Order::oldest_first);
  EXPECT_EQ(out,
            "## Timeline\n\n- 2026-11-22 03:00:00 UTC - a\n- 2026-11-22 03:30:00 UTC - c\n"
            "- 2026-11-22 04:00:00 UTC - b\n");
}

TEST(MarkdownTest, ReplacesNaPlaceholderAndRecreatesDeletedKeys) {
  std::string doc = "## Incident timeline\n\nn/a\n\n## Next\n";
  auto out = add_list_entry(doc, "Incident timeline", at("2026-11-22T03:00:00Z"), "e",
                            Order::newest_first);
  EXPECT_EQ(out, "## Incident timeline\n\n- e\n\n## Next\n");
  auto recreated = add_list_entry("# T\n\nsome text\n", "Incident timeline",
                                  at("2026-11-22T03:00:00Z"), "e", Order::newest_first);
  EXPECT_EQ(recreated, "# T\n\nsome text\n\n## Incident timeline\n\n- e\n");
  EXPECT_EQ(set_key("# T\n", "Status", "resolved"), "# T\n\n## Status\n\nresolved\n");
}

TEST(MarkdownTest, SetKeyChangesOnlyThatParagraph) {
  auto out = set_key(k_doc, "Status", "resolved");
  std::string expected = k_doc;
  expected.replace(expected.find("active"), 6, "resolved");
  EXPECT_EQ(out, expected);
  EXPECT_EQ(key_text(out, "status"), "resolved");
  // A multi-line value written by hand is replaced as a whole.
  auto multi = set_key("## Status\n\nactive but\ndegraded\n\n## X\n", "Status", "resolved");
  EXPECT_EQ(multi, "## Status\n\nresolved\n\n## X\n");
  // Only the exact key: "Detailed Status" is another key.
  auto other = set_key("## Detailed Status\n\nfine\n\n## Status\n\nactive\n", "Status", "resolved");
  EXPECT_EQ(other, "## Detailed Status\n\nfine\n\n## Status\n\nresolved\n");
}

TEST(MarkdownTest, EscapingKeepsHostileTextInline) {
  std::string hostile =
      "x\n# Injected heading\n| a | b |\n<script>alert(1)</script> [l](javascript:x) ---";
  std::string doc =
      "## Incident timeline\n\n- 2026-11-22 03:00:00 UTC - a\n\n## Supporting Information\n";
  auto out = add_list_entry(doc, "Incident timeline", at("2026-11-22T04:00:00Z"),
                            "2026-11-22 04:00:00 UTC - Alertmanager - " + escape_inline(hostile),
                            Order::newest_first);
  EXPECT_EQ(headings(out),
            (std::vector<std::string>{"Incident timeline", "Supporting Information"}));
  EXPECT_EQ(out.find("<script>"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), std::count(doc.begin(), doc.end(), '\n') + 1);
  for (const char* start : {"---", "# h", "1. x", "+ y", "==="}) {
    auto e = escape_inline(start);
    EXPECT_EQ(headings("## K\n\n" + e + "\n"), std::vector<std::string>{"K"}) << start;
    EXPECT_EQ(key_text("## K\n\n" + e + "\n", "K"), start) << e;
  }
  EXPECT_EQ(escape_inline(""), "n/a");
}

// Text that would display other than it reads: bidi overrides and isolates
// (U+202E makes "exe.txt" show as "txt.exe"), marks, and C0/C1 controls are
// removed; tabs and newlines become spaces as before.
TEST(MarkdownTest, EscapingRemovesBidiAndControlCharacters) {
  EXPECT_EQ(escape_inline("invoice\u202Etxt.exe"), "invoicetxt.exe");
  EXPECT_EQ(escape_inline("a\u202Ab\u202Bc\u202Cd\u202De"), "abcde");
  EXPECT_EQ(escape_inline("a\u2066b\u2067c\u2068d\u2069e"), "abcde");
  EXPECT_EQ(escape_inline("a\u200Eb\u200Fc\u061Cd"), "abcd");
  EXPECT_EQ(escape_inline("a\u0085b\u009Bc\x7F"
                          "d\x01"
                          "e\x1B[31mf"),
            "abcde\\[31mf");
  EXPECT_EQ(escape_inline("line1\nline2\tend\r\nnext\rlast"), "line1 line2 end next last");
  // Letters that share bytes with the controls stay: é (C3 A9), — (E2 80 94), ← (E2 86 90).
  EXPECT_EQ(escape_inline("caf\u00E9 \u2014 \u2190 \u0628"), "caf\u00E9 \u2014 \u2190 \u0628");
  // Through the template: a label value in a callout.
  EXPECT_EQ(labels_table({{{"alertname", "A\u202EB"}}}), "| alertname |\n| --- |\n| AB |");
}

TEST(MarkdownTest, LabelTablesStayTables) {
  auto table = labels_table(
      {{{"alertname", "A|B"}, {"x", "line1\nline2"}}, {{"alertname", "C"}, {"y", "#1"}}});
  EXPECT_EQ(
      table,
      "| alertname | x | y |\n| --- | --- | --- |\n| A\\|B | line1 line2 |  |\n| C |  | \\#1 |");
}

TEST(MarkdownTest, UrlsMustBeHttp) {
  EXPECT_EQ(safe_url("javascript:alert(1)"), "");
  EXPECT_EQ(safe_url("https://g/d?a=(1) b"), "https://g/d?a=%281%29%20b");
  EXPECT_EQ(link("Dash", "ftp://x"), "n/a");
  EXPECT_EQ(link("Da]sh", "http://x/"), "[Da\\]sh](http://x/)");
}

}  // namespace
}  // namespace calloutd::markdown

namespace calloutd::markdown {
namespace {

// Found by fuzzing: cmark also ends lines at a lone `\r`; edits must count
// lines the same way and keep every byte around them.
TEST(MarkdownTest, LoneCarriageReturnsCountAsLineEnds) {
  std::string doc =
      "## Status\r\ractive\r\r## Incident timeline\r\r- 2026-11-22 03:00:00 UTC - a \r b\n";
  auto out = add_list_entry(doc, "Incident timeline", *parse_rfc3339("2026-11-22T04:00:00Z"), "new",
                            Order::newest_first);
  EXPECT_EQ(
      out,
      "## Status\r\ractive\r\r## Incident timeline\r\r- new\r- 2026-11-22 03:00:00 UTC - a \r b\n");
  EXPECT_EQ(key_text(set_key(doc, "Status", "resolved"), "Status"), "resolved");
}

}  // namespace
}  // namespace calloutd::markdown
