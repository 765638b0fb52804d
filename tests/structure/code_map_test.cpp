// The code map (daemon/README.md) against the code: every include under
// daemon/ and receivers/ is one the map allows, every folder is on the map,
// and no folder outgrows it.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using testing::read_file;

const fs::path k_source = CALLOUTD_SOURCE_DIR;

// folder -> the folders it may include, from the map's table rows:
// | `engine/` | what it owns | `base`, `git` |
std::map<std::string, std::set<std::string>> read_map() {
  std::map<std::string, std::set<std::string>> map;
  std::istringstream lines(read_file(k_source / "daemon" / "README.md"));
  std::string line;
  const RE2 row(R"(^\| `([a-z]+)/`[^|]*\|[^|]*\|([^|]*)\|\s*$)");
  const RE2 name(R"(`([a-z]+)`)");
  while (std::getline(lines, line)) {
    std::string folder;
    std::string allowed;
    if (!RE2::FullMatch(line, row, &folder, &allowed)) {
      continue;
    }
    auto& set = map[folder];
    re2::StringPiece rest(allowed);
    std::string one;
    while (RE2::FindAndConsume(&rest, name, &one)) {
      set.insert(one);
    }
  }
  return map;
}

// The folder a source file belongs to: receivers/x -> receivers,
// daemon/engine/x -> engine, daemon/main.cpp -> app.
std::string folder_of(const fs::path& relative) {
  auto first = relative.begin();
  if (*first == "receivers") {
    return "receivers";
  }
  auto second = std::next(first);
  return std::next(second) == relative.end() ? "app" : second->string();
}

std::vector<fs::path> sources() {
  std::vector<fs::path> out;
  for (const char* top : {"daemon", "receivers"}) {
    for (const auto& e : fs::recursive_directory_iterator(k_source / top)) {
      auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".cpp" || ext == ".hpp")) {
        out.push_back(fs::relative(e.path(), k_source));
      }
    }
  }
  return out;
}

TEST(CodeMapTest, EveryIncludeIsOneTheMapAllows) {
  auto map = read_map();
  ASSERT_GE(map.size(), 10u) << "daemon/README.md: the table was not found";
  const RE2 include(R"(^#include "(daemon/([a-z_]+)/|receivers/))");
  std::vector<std::string> wrong;
  for (const auto& file : sources()) {
    auto from = folder_of(file);
    std::istringstream lines(read_file(k_source / file));
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      std::string prefix;
      std::string to;
      if (!RE2::PartialMatch(line, include, &prefix, &to)) {
        continue;
      }
      if (to.empty()) {
        to = "receivers";
      }
      if (to != from && !map[from].contains(to)) {
        wrong.push_back(file.string() + ":" + std::to_string(number) + ": " + from + "/ includes " +
                        to + "/, which daemon/README.md does not allow");
      }
    }
  }
  EXPECT_TRUE(wrong.empty()) << ::testing::PrintToString(wrong);
}

TEST(CodeMapTest, EveryFolderIsOnTheMapAndSmall) {
  auto map = read_map();
  std::map<std::string, int> files;
  for (const auto& file : sources()) {
    ++files[folder_of(file)];
  }
  for (const auto& [folder, count] : files) {
    EXPECT_TRUE(map.contains(folder)) << folder << "/ is not in daemon/README.md";
    EXPECT_LE(count, 16) << folder << "/ holds " << count << " source files: split it";
  }
  for (const auto& [folder, allowed] : map) {
    EXPECT_TRUE(files.contains(folder))
        << "daemon/README.md names " << folder << "/, which holds no source file";
  }
}

}  // namespace
}  // namespace calloutd
