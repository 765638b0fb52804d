#include "daemon/journal.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::TempDir;

TimePoint at(const char* t) {
  return *parse_rfc3339(t);
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

TEST(JournalTest, UnusableDirectoryIsFatal) {
  EXPECT_THROW(Journal("/proc/calloutd-cannot-exist"), std::runtime_error);
}

}  // namespace
}  // namespace calloutd
