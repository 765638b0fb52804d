#include "daemon/journal/journal.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;

using nlohmann::json;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// The lines a journal writes for `n` records with bodies "body1".."bodyN".
std::vector<std::string> written_lines(int n) {
  TempDir scratch;
  {
    Journal j(scratch.str());
    for (int i = 1; i <= n; ++i) {
      EXPECT_TRUE(j.append("alertmanager", at("2026-11-22T03:00:00Z"), "body" + std::to_string(i)));
    }
  }
  return split_lines(read_file(scratch.path() / "journal.jsonl"));
}

std::vector<std::string> bodies(const std::vector<JournalRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) {
    out.push_back(r.body);
  }
  return out;
}

// The entries of the quarantine file, one JSON object each.
std::vector<json> quarantine_entries(const TempDir& dir) {
  std::vector<json> entries;
  auto path = dir.path() / "journal.quarantine.jsonl";
  if (!std::filesystem::exists(path)) {
    return entries;
  }
  for (const auto& line : split_lines(read_file(path))) {
    entries.push_back(json::parse(line));
  }
  return entries;
}

TEST(JournalTest, UnappliedRecordsComeBackAfterAReopen) {
  TempDir dir;
  {
    Journal j(dir.str());
    EXPECT_TRUE(j.take_unapplied().empty());
    EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:00Z"), "{\"a\":1}\n"), 1u);
    EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:01Z"), "body \xff two"), 2u);
    EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:02Z"), "three"), 3u);
    j.mark_applied(1);
  }
  Journal j(dir.str());
  auto records = j.take_unapplied();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].sequence, 2u);
  EXPECT_EQ(records[0].source, "alertmanager");
  EXPECT_EQ(records[0].received_at, at("2026-11-22T03:00:01Z"));
  EXPECT_EQ(records[0].body, "body \xEF\xBF\xBD two");  // invalid UTF-8 replaced, record kept
  EXPECT_EQ(records[1].body, "three");
  EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:03Z"), "four"), 4u);
}

// Events held for their group keep the mark before them while later ones
// are applied: a restart replays the held ones and what follows, not the
// applied ones again; a `held` file that does not read replays everything.
TEST(JournalTest, HeldRecordsAndWhatFollowsComeBackNotTheOnesAppliedPastTheMark) {
  TempDir dir;
  {
    Journal j(dir.str());
    for (int i = 1; i <= 5; ++i) {
      EXPECT_TRUE(j.append("alertmanager", at("2026-11-22T03:00:00Z"), std::to_string(i)));
    }
    j.mark_applied(1);
    j.mark_held(4, {2, 4});  // 3 applied, 5 not yet processed
  }
  auto sequences = [&] {
    Journal j(dir.str());
    std::vector<std::uint64_t> out;
    for (const auto& r : j.take_unapplied()) {
      out.push_back(r.sequence);
    }
    return out;
  };
  EXPECT_EQ(sequences(), (std::vector<std::uint64_t>{2, 4, 5}));
  write_file(dir.path() / "held", "4\n2\nfour\n");
  EXPECT_EQ(sequences(), (std::vector<std::uint64_t>{2, 3, 4, 5}));
  write_file(dir.path() / "held", "1\n");  // not past the mark: nothing to skip
  EXPECT_EQ(sequences(), (std::vector<std::uint64_t>{2, 3, 4, 5}));
}

TEST(JournalTest, TornLastRecordIsCutOff) {
  TempDir dir;
  {
    Journal j(dir.str());
    ASSERT_TRUE(j.append("alertmanager", at("2026-11-22T03:00:00Z"), "one"));
  }
  {
    std::ofstream out(dir.path() / "journal.jsonl", std::ios::app);
    out << R"({"seq":2,"received":"2026-11-22T03:0)";  // a crash mid-write
  }
  {
    Journal j(dir.str());
    auto records = j.take_unapplied();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].body, "one");
    EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:05Z"), "two"), 2u);
  }
  Journal j(dir.str());
  auto records = j.take_unapplied();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].body, "two");
  // A torn tail was never acknowledged: cut, not quarantined.
  EXPECT_TRUE(quarantine_entries(dir).empty());
}

TEST(JournalTest, CompactsOnceEverythingIsApplied) {
  TempDir dir;
  {
    Journal j(dir.str(), /*compact_bytes=*/100);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(j.append("alertmanager", at("2026-11-22T03:00:00Z"), std::string(40, 'x')));
    }
    j.mark_applied(4);
    EXPECT_GT(std::filesystem::file_size(dir.path() / "journal.jsonl"), 100u);
    j.mark_applied(5);
    EXPECT_EQ(std::filesystem::file_size(dir.path() / "journal.jsonl"), 0u);
  }
  Journal j(dir.str());
  EXPECT_TRUE(j.take_unapplied().empty());
  EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:00Z"), "next"),
            6u);  // numbering goes on
}

TEST(JournalTest, WithARemoteRecordsStayUntilPushed) {
  TempDir dir;
  {
    Journal j(dir.str(), /*compact_bytes=*/100);
    j.track_pushed();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(j.append("alertmanager", at("2026-11-22T03:00:00Z"), "body" + std::to_string(i)));
    }
    j.mark_applied(5);
    // Applied but not pushed: kept, and readable for applying them again.
    EXPECT_GT(std::filesystem::file_size(dir.path() / "journal.jsonl"), 100u);
    j.mark_pushed(2);
    auto again = j.applied_after(j.pushed());
    ASSERT_EQ(again.size(), 3u);
    EXPECT_EQ(again.front().sequence, 3u);
    EXPECT_EQ(again.front().body, "body2");
    EXPECT_EQ(again.back().sequence, 5u);
    j.mark_pushed(1);  // the mark never goes back
    EXPECT_EQ(j.pushed(), 2u);
    j.mark_pushed(5);
    EXPECT_EQ(std::filesystem::file_size(dir.path() / "journal.jsonl"), 0u);
  }
  Journal j(dir.str());
  j.track_pushed();
  EXPECT_EQ(j.pushed(), 5u);  // read back from the `pushed` file
  EXPECT_TRUE(j.applied_after(j.pushed()).empty());
}

TEST(JournalTest, BadLinesInTheMiddleAreQuarantinedAndEveryRecordAfterThemReplayed) {
  TempDir dir;
  auto lines = written_lines(4);
  std::string good = lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3] + "\n";
  write_file(dir.path() / "journal.jsonl", lines[0] + "\n" + lines[1] + "\n" + "\n" +
                                               "{\"seq\":3,\"rece\n" + lines[2] + "\n" + lines[3] +
                                               "\n");
  {
    Journal j(dir.str());
    EXPECT_EQ(bodies(j.take_unapplied()),
              (std::vector<std::string>{"body1", "body2", "body3", "body4"}));
    // The file no longer holds the bad lines, and numbering goes on.
    EXPECT_EQ(read_file(dir.path() / "journal.jsonl"), good);
    EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:05Z"), "body5"), 5u);
  }
  auto entries = quarantine_entries(dir);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["line"], 3);
  EXPECT_EQ(entries[0]["reason"], "blank line");
  EXPECT_EQ(entries[0]["raw"], "");
  EXPECT_EQ(entries[1]["line"], 4);
  EXPECT_EQ(entries[1]["reason"], "not valid JSON");
  EXPECT_EQ(entries[1]["raw"], "{\"seq\":3,\"rece");
  // Reopened: the same records, nothing quarantined twice.
  Journal j(dir.str());
  EXPECT_EQ(bodies(j.take_unapplied()),
            (std::vector<std::string>{"body1", "body2", "body3", "body4", "body5"}));
  EXPECT_EQ(quarantine_entries(dir).size(), 2u);
}

TEST(JournalTest, WrongTypedFieldIsQuarantinedNotThrown) {
  TempDir dir;
  auto lines = written_lines(2);
  std::string bad =
      R"({"body":"b","received":"2026-11-22T03:00:00.000Z","seq":"x","source":"alertmanager"})";
  write_file(dir.path() / "journal.jsonl", lines[0] + "\n" + bad + "\n" + lines[1] + "\n");
  Journal j(dir.str());
  EXPECT_EQ(bodies(j.take_unapplied()), (std::vector<std::string>{"body1", "body2"}));
  auto entries = quarantine_entries(dir);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["line"], 2);
  EXPECT_EQ(entries[0]["reason"], "\"seq\" is not a number");
  EXPECT_EQ(entries[0]["raw"], bad);
}

TEST(JournalTest, AppliedMarkPastTheJournalsEndStopsTheStart) {
  TempDir dir;
  auto lines = written_lines(3);
  std::string content = lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n";
  write_file(dir.path() / "journal.jsonl", content);
  write_file(dir.path() / "applied", "7\n");
  try {
    Journal j(dir.str());
    FAIL() << "opened a journal whose applied mark (7) is past its last record (3)";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(dir.str() + "/applied"), std::string::npos) << what;
    EXPECT_NE(what.find("7"), std::string::npos) << what;
    EXPECT_NE(what.find("sequence 3"), std::string::npos) << what;
    EXPECT_NE(what.find("journal_dir"), std::string::npos) << what;
    EXPECT_NE(what.find("remove"), std::string::npos) << what;
  }
  // Nothing changed on disk.
  EXPECT_EQ(read_file(dir.path() / "journal.jsonl"), content);
  EXPECT_EQ(read_file(dir.path() / "applied"), "7\n");
}

TEST(JournalTest, JournalOfThePreviousVersionStillReplays) {
  TempDir dir;
  // Lines exactly as the versions before checksums wrote them (the oldest had
  // no "verified").
  write_file(
      dir.path() / "journal.jsonl",
      R"({"body":"{\"a\":1}\n","received":"2026-11-22T03:00:00.000Z","seq":1,"source":"alertmanager","verified":false})"
      "\n"
      R"({"body":"two","received":"2026-11-22T03:00:01.000Z","seq":2,"source":"pagerduty","verified":true})"
      "\n"
      R"({"body":"three","received":"2026-11-22T03:00:02.000Z","seq":3,"source":"alertmanager"})"
      "\n");
  write_file(dir.path() / "applied", "1\n");
  {
    Journal j(dir.str());
    auto records = j.take_unapplied();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].sequence, 2u);
    EXPECT_EQ(records[0].source, "pagerduty");
    EXPECT_EQ(records[0].received_at, at("2026-11-22T03:00:01Z"));
    EXPECT_EQ(records[0].body, "two");
    EXPECT_TRUE(records[0].verified);
    EXPECT_EQ(records[1].body, "three");
    EXPECT_FALSE(records[1].verified);
    EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:03Z"), "four"), 4u);
  }
  Journal j(dir.str());
  EXPECT_EQ(bodies(j.take_unapplied()), (std::vector<std::string>{"two", "three", "four"}));
  EXPECT_TRUE(quarantine_entries(dir).empty());
}

TEST(JournalTest, ChecksumMismatchIsCorruptionInTheMiddleAndAtTheEnd) {
  TempDir dir;
  auto lines = written_lines(4);
  for (const auto& line : lines) {
    ASSERT_NE(line.find("\"sum\":\""), std::string::npos) << line;
  }
  // One changed letter in a body, in the middle and in the complete last line.
  auto flip = [](std::string line) {
    line.replace(line.find("body"), 4, "bodY");
    return line;
  };
  write_file(dir.path() / "journal.jsonl",
             lines[0] + "\n" + flip(lines[1]) + "\n" + lines[2] + "\n" + flip(lines[3]) + "\n");
  Journal j(dir.str());
  EXPECT_EQ(bodies(j.take_unapplied()), (std::vector<std::string>{"body1", "body3"}));
  auto entries = quarantine_entries(dir);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["line"], 2);
  EXPECT_EQ(entries[0]["raw"], flip(lines[1]));
  EXPECT_NE(entries[0]["reason"].get<std::string>().find("checksum"), std::string::npos);
  EXPECT_EQ(entries[1]["line"], 4);
  EXPECT_EQ(entries[1]["raw"], flip(lines[3]));
}

TEST(JournalTest, CompleteButUnreadableLastLineIsQuarantinedNotDropped) {
  TempDir dir;
  auto lines = written_lines(1);
  write_file(dir.path() / "journal.jsonl", lines[0] + "\n{\"seq\":2}garbage\n");
  Journal j(dir.str());
  EXPECT_EQ(bodies(j.take_unapplied()), (std::vector<std::string>{"body1"}));
  auto entries = quarantine_entries(dir);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["line"], 2);
  EXPECT_EQ(entries[0]["raw"], "{\"seq\":2}garbage");
}

TEST(JournalTest, EachQuarantinedLineIsNamedByFileAndLine) {
  TempDir dir;
  auto lines = written_lines(2);
  write_file(dir.path() / "journal.jsonl", "\n" + lines[0] + "\n[1]\n" + lines[1] + "\n");
  Journal j(dir.str());
  std::string path = dir.str() + "/journal.jsonl";
  EXPECT_EQ(j.quarantined(),
            (std::vector<std::string>{path + ":1: blank line", path + ":3: not a JSON object"}));
  EXPECT_EQ(bodies(j.take_unapplied()), (std::vector<std::string>{"body1", "body2"}));
}

TEST(JournalTest, ALineThatIsNotUtf8IsQuarantinedByteForByte) {
  TempDir dir;
  auto lines = written_lines(2);
  std::string bad = "{\"seq\":\xff\xfe}";
  write_file(dir.path() / "journal.jsonl", lines[0] + "\n" + bad + "\n" + lines[1] + "\n");
  Journal j(dir.str());
  EXPECT_EQ(bodies(j.take_unapplied()), (std::vector<std::string>{"body1", "body2"}));
  auto entries = quarantine_entries(dir);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_FALSE(entries[0].contains("raw"));
  EXPECT_EQ(entries[0]["raw_base64"], "eyJzZXEiOv/+fQ==");
}

TEST(JournalTest, AppliedMarkMayPointAtADamagedLastRecord) {
  // Records 1-3 applied, then record 3's line damaged: the mark is past the
  // last readable record, but a quarantined line follows it, which may be
  // the record the mark names. Nothing is left to replay; the start goes on.
  TempDir dir;
  auto lines = written_lines(3);
  write_file(dir.path() / "journal.jsonl", lines[0] + "\n" + lines[1] + "\n{\"seq\":3\n");
  write_file(dir.path() / "applied", "3\n");
  Journal j(dir.str());
  EXPECT_TRUE(j.take_unapplied().empty());
  EXPECT_EQ(j.quarantined().size(), 1u);
  EXPECT_EQ(*j.append("alertmanager", at("2026-11-22T03:00:05Z"), "body4"), 4u);
}

TEST(JournalTest, AppliedMarkPastTheEndMakesTheDaemonExitWithTheReason) {
  TempDir dir;
  auto lines = written_lines(2);
  std::filesystem::create_directories(dir.path() / "journal");
  write_file(dir.path() / "journal" / "journal.jsonl", lines[0] + "\n" + lines[1] + "\n");
  write_file(dir.path() / "journal" / "applied", "9\n");
  write_file(dir.path() / "calloutd.yml",
             "repository:\n  path: callouts\n  journal_dir: journal\n");
  auto log = dir.path() / "calloutd.log";
  testing::Process daemon({testing::calloutd_binary(), "--config.file=calloutd.yml",
                           "--web.listen-address=127.0.0.1:0"},
                          log.string(), dir.path());
  EXPECT_EQ(daemon.wait(30), 1);
  std::string text = read_file(log);
  EXPECT_NE(text.find("level=error msg=fatal"), std::string::npos) << text;
  EXPECT_NE(text.find("the applied mark in journal/applied is 9, past the journal's last record "
                      "(sequence 2 in journal/journal.jsonl)"),
            std::string::npos)
      << text;
}

TEST(JournalReaderTest, WrongFieldsAreNamedWithTheirLine) {
  const std::string ok_fields = R"("received":"2026-11-22T03:00:00.000Z","source":"s","body":"b")";
  struct Case {
    std::string line;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {R"({"seq":"x",)" + ok_fields + "}", R"("seq" is not a number)"},
      {R"({"seq":-1,)" + ok_fields + "}", R"("seq" is not a whole number from 1)"},
      {R"({"seq":1.5,)" + ok_fields + "}", R"("seq" is not a whole number from 1)"},
      {R"({"seq":0,)" + ok_fields + "}", R"("seq" is not a whole number from 1)"},
      {"{" + ok_fields + "}", R"("seq" is missing)"},
      {R"({"seq":1,"received":5,"source":"s","body":"b"})", R"("received" is not a string)"},
      {R"({"seq":1,"received":"yesterday","source":"s","body":"b"})",
       R"("received" is not an RFC 3339 time: "yesterday")"},
      {R"({"seq":1,"received":"2026-11-22T03:00:00Z","body":"b"})", R"("source" is missing)"},
      {R"({"seq":1,"received":"2026-11-22T03:00:00Z","source":"s","body":{}})",
       R"("body" is not a string)"},
      {R"({"seq":1,)" + ok_fields + R"(,"verified":"yes"})", R"("verified" is not true or false)"},
      {R"({"seq":1,)" + ok_fields + R"(,"sum":7})", R"("sum" is not a string)"},
      // The first 16 hex digits of the SHA-256 of the record without "sum",
      // keys sorted, no spaces: printf '%s' '{"body":"b","received":
      // "2026-11-22T03:00:00.000Z","seq":1,"source":"s"}' | sha256sum
      {R"({"seq":1,)" + ok_fields + R"(,"sum":"0000000000000000"})",
       R"(checksum mismatch: "sum" is "0000000000000000", the record hashes to "05dc155d6ed5c404")"},
      {"  \t", "blank line"},
      {"{\"seq\":1", "not valid JSON"},
      {"42", "not a JSON object"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_journal("\n" + c.line + "\n");
    EXPECT_TRUE(parsed.records.empty()) << c.line;
    ASSERT_EQ(parsed.problems.size(), 2u) << c.line;
    EXPECT_EQ(parsed.problems[1].line, 2u);
    EXPECT_EQ(parsed.problems[1].reason, c.reason) << c.line;
    EXPECT_EQ(parsed.problems[1].raw, c.line);
  }
}

TEST(JournalReaderTest, WrittenRecordsReadBackAndOnlyTheUnterminatedTailIsTorn) {
  JournalRecord r{7, at("2026-11-22T03:00:00.123Z"), "pagerduty", "b\xff\n", true};
  std::string line = encode_journal_record(r);
  auto parsed = parse_journal(line + line.substr(0, line.size() - 1));
  ASSERT_EQ(parsed.records.size(), 1u);
  EXPECT_EQ(parsed.records[0].sequence, 7u);
  EXPECT_EQ(parsed.records[0].received_at, r.received_at);
  EXPECT_EQ(parsed.records[0].source, "pagerduty");
  EXPECT_EQ(parsed.records[0].body, "b\xEF\xBF\xBD\n");
  EXPECT_TRUE(parsed.records[0].verified);
  EXPECT_TRUE(parsed.problems.empty());
  EXPECT_EQ(parsed.kept, line);
  EXPECT_EQ(parsed.torn_line, 2u);
  EXPECT_EQ(parsed.torn_bytes, line.size() - 1);
}

// The fuzz corpus holds what its file names say (the fuzzer only checks
// that the reader is consistent, not that a file is the case it is meant to be).
TEST(JournalReaderTest, FuzzCorpusFilesAreTheCasesTheyAreNamedFor) {
  auto read = [](const std::string& name) {
    return parse_journal(
        read_file(std::filesystem::path(CALLOUTD_SOURCE_DIR) / "tests/fuzz/corpus/journal" / name));
  };
  struct Case {
    std::string file;
    std::size_t records;
    std::vector<std::size_t> problem_lines;
    bool torn;
  };
  const std::vector<Case> cases = {
      {"valid.jsonl", 3, {}, false},
      {"old_format.jsonl", 3, {}, false},
      {"old_then_new.jsonl", 2, {}, false},
      {"torn_tail.jsonl", 2, {}, true},
      {"blank_middle.jsonl", 2, {2}, false},
      {"unparsable_middle.jsonl", 2, {2}, false},
      {"bad_checksum.jsonl", 2, {2}, false},
      {"not_utf8.jsonl", 2, {2}, false},
      {"wrong_types.jsonl", 2, {2, 3, 4, 5, 6, 7}, false},
  };
  for (const auto& c : cases) {
    auto parsed = read(c.file);
    EXPECT_EQ(parsed.records.size(), c.records) << c.file;
    std::vector<std::size_t> lines;
    for (const auto& p : parsed.problems) {
      lines.push_back(p.line);
    }
    EXPECT_EQ(lines, c.problem_lines) << c.file;
    EXPECT_EQ(parsed.torn_bytes > 0, c.torn) << c.file;
  }
  EXPECT_EQ(read("bad_checksum.jsonl").problems.at(0).reason.substr(0, 17), "checksum mismatch");
}

TEST(JournalTest, UnusableDirectoryIsFatal) {
  EXPECT_THROW(Journal("/proc/calloutd-cannot-exist"), std::runtime_error);
}

}  // namespace
}  // namespace calloutd
