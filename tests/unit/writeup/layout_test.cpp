#include "daemon/writeup/layout.hpp"

#include <gtest/gtest.h>

#include <map>

namespace calloutd::layout {
namespace {

// `parse`'s result as "issue|date|n", or "none".
template <class Parse>
std::string parsed(Parse parse, std::string_view name) {
  auto f = parse(name);
  return f ? f->issue + "|" + f->date + "|" + f->n : "none";
}

TEST(LayoutTest, StrictRuleAcceptsOnlyKebabIssuesRealDatesAndNFromTwo) {
  EXPECT_EQ(parsed(parse_folder, "replication-lag-2026-11-22"), "replication-lag|2026-11-22|");
  EXPECT_EQ(parsed(parse_folder, "replication-lag-2026-11-22-2"), "replication-lag|2026-11-22|2");
  EXPECT_EQ(parsed(parse_folder, "a-2024-02-29-10"), "a|2024-02-29|10");
  EXPECT_EQ(parsed(parse_folder, "x-2026-11-22-2026-11-23"), "x-2026-11-22|2026-11-23|");
  for (const char* bad :
       {"Replication-lag-2026-11-22", "lag-2026-02-30", "lag-2026-11-22-1", "lag-2026-11-22-0",
        "lag-2026-11-22-02", "lag--x-2026-11-22", "-lag-2026-11-22", "2026-11-22", "lag",
        "lag-2026-11-22-", "lag 1-2026-11-22"}) {
    EXPECT_EQ(parsed(parse_folder, bad), "none") << bad;
  }
}

TEST(LayoutTest, LooseRuleAcceptsWhatPeopleMakeByHand) {
  EXPECT_EQ(parsed(parse_folder_loosely, "Replication Lag-2026-13-45-01"),
            "Replication Lag|2026-13-45|01");
  EXPECT_EQ(parsed(parse_folder_loosely, "lag--x-2026-11-22-1"), "lag--x|2026-11-22|1");
  for (const char* bad : {"2026-11-22", "-2026-11-22", "lag-2026-11", "lag-2026-11-22-x"}) {
    EXPECT_EQ(parsed(parse_folder_loosely, bad), "none") << bad;
  }
  // Where the strict rule accepts, the loose one reads the same parts.
  for (const char* good : {"replication-lag-2026-11-22", "a-2024-02-29-10",
                           "x-2026-11-22-2026-11-23", "x-2026-11-22-2026-11-23-3"}) {
    EXPECT_EQ(parsed(parse_folder_loosely, good), parsed(parse_folder, good)) << good;
  }
}

TEST(LayoutTest, IssueFoldersAndNames) {
  EXPECT_TRUE(is_issue_folder("lag-2026-11-22", "lag"));
  EXPECT_TRUE(is_issue_folder("lag-2026-11-22-3", "lag"));
  EXPECT_FALSE(is_issue_folder("lag-x-2026-11-22", "lag"));
  EXPECT_FALSE(is_issue_folder("lag-2026-11-22-2026-11-23", "lag"));
  EXPECT_EQ(folder_name("lag", "2026-11-22"), "lag-2026-11-22");
  EXPECT_EQ(folder_name("lag", "2026-11-22", 3), "lag-2026-11-22-3");
  EXPECT_TRUE(can_be_technology("mysql"));
  EXPECT_FALSE(can_be_technology(".calloutd"));
  EXPECT_FALSE(can_be_technology(""));
}

TEST(LayoutTest, WriteUpPaths) {
  auto p = parse_path("mysql/lag-2026-11-22/postmortem.md");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->technology + "|" + p->folder + "|" + p->file, "mysql|lag-2026-11-22|postmortem.md");
  EXPECT_FALSE(parse_path("mysql/lag-2026-11-22/notes.md"));
  EXPECT_FALSE(parse_path("a/mysql/lag-2026-11-22/callout.md"));
  EXPECT_FALSE(parse_path("lag-2026-11-22/callout.md"));
}

// A repository of folders, with some paths that cannot be written (symlinks).
struct FakeGround {
  std::map<std::string, std::set<std::string>> names;
  std::set<std::string> links;
  Ground ground() const {
    auto first_link = [this](const std::string& path) -> std::optional<std::string> {
      for (std::size_t end = path.find('/');; end = path.find('/', end + 1)) {
        if (links.contains(path.substr(0, end))) {
          return path.substr(0, end);
        }
        if (end == std::string::npos) {
          return std::nullopt;
        }
      }
    };
    return Ground{[this](const std::string& dir) {
                    auto it = names.find(dir);
                    return it == names.end() ? std::set<std::string>{} : it->second;
                  },
                  first_link, first_link};
  }
};

TEST(LayoutTest, AllocatesTheFirstFreeSafeFolder) {
  FakeGround repo;
  auto a = allocate_folder("mysql", "lag", "2026-11-22", repo.ground());
  EXPECT_EQ(a.folder, "mysql/lag-2026-11-22");
  EXPECT_TRUE(a.unsafe_paths.empty());

  repo.names["mysql"] = {"lag-2026-11-22", "lag-2026-11-22-2", "other-2026-11-22"};
  repo.links = {"mysql/lag-2026-11-22-2"};
  a = allocate_folder("mysql", "lag", "2026-11-22", repo.ground());
  EXPECT_EQ(a.folder, "mysql/lag-2026-11-22-3");
  EXPECT_EQ(a.unsafe_paths, std::vector<std::string>{"mysql/lag-2026-11-22-2"});
}

TEST(LayoutTest, GoesAroundATechnologyFolderThatCannotHoldFolders) {
  FakeGround repo;
  repo.links = {"mysql", "mysql-calloutd"};
  repo.names["mysql-calloutd-2"] = {"lag-2026-11-22"};
  auto a = allocate_folder("mysql", "lag", "2026-11-22", repo.ground());
  EXPECT_EQ(a.folder, "mysql-calloutd-2/lag-2026-11-22-2");
  EXPECT_EQ(a.unsafe_paths, (std::vector<std::string>{"mysql", "mysql-calloutd"}));
}

TEST(LayoutTest, UnsafeWriteUpNamesTheFirstFileInTheWay) {
  FakeGround repo;
  EXPECT_FALSE(unsafe_write_up("mysql/lag-2026-11-22", repo.ground()));
  repo.links = {"mysql/lag-2026-11-22/postmortem.md"};
  EXPECT_EQ(unsafe_write_up("mysql/lag-2026-11-22", repo.ground()),
            "mysql/lag-2026-11-22/postmortem.md");
}

}  // namespace
}  // namespace calloutd::layout
