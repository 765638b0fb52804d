// The code map (daemon/README.md) against the code and the build: every
// include under daemon/ and receivers/ is one the map allows, and so is every
// folder a file reaches through the headers it includes; every folder the
// map grants is reached; the folders' libraries (cmake/code_map.cmake) link
// only what the map grants; every folder is on the map, and no folder
// outgrows it.
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

// One of our includes: the line it is on and the file it names.
struct Include {
  int line = 0;
  fs::path file;
};

// Every file under daemon/ and receivers/ -> its includes of our headers.
std::map<fs::path, std::vector<Include>> includes() {
  const RE2 include(R"re(^#include "((?:daemon/[a-z_]+/|receivers/)[^"]+)")re");
  std::map<fs::path, std::vector<Include>> out;
  for (const auto& file : sources()) {
    auto& list = out[file];
    std::istringstream lines(read_file(k_source / file));
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      std::string to;
      if (RE2::PartialMatch(line, include, &to)) {
        list.push_back({number, to});
      }
    }
  }
  return out;
}

bool allowed(const std::map<std::string, std::set<std::string>>& map, const std::string& from,
             const std::string& to) {
  auto row = map.find(from);
  return to == from || (row != map.end() && row->second.contains(to));
}

TEST(CodeMapTest, EveryIncludeIsOneTheMapAllows) {
  auto map = read_map();
  ASSERT_GE(map.size(), 10u) << "daemon/README.md: the table was not found";
  std::vector<std::string> wrong;
  for (const auto& [file, list] : includes()) {
    auto from = folder_of(file);
    for (const auto& include : list) {
      auto to = folder_of(include.file);
      if (!allowed(map, from, to)) {
        wrong.push_back(file.string() + ":" + std::to_string(include.line) + ": " + from +
                        "/ includes " + to + "/, which daemon/README.md does not allow");
      }
    }
  }
  EXPECT_TRUE(wrong.empty()) << ::testing::PrintToString(wrong);
}

// The headers `file` reaches through its includes, each with the chain of
// includes that gets there (file first).
std::map<fs::path, std::vector<fs::path>> reached(
    const std::map<fs::path, std::vector<Include>>& graph, const fs::path& file) {
  std::map<fs::path, std::vector<fs::path>> chains{{file, {file}}};
  std::vector<fs::path> todo{file};
  while (!todo.empty()) {
    auto at = todo.back();
    todo.pop_back();
    auto it = graph.find(at);
    if (it == graph.end()) {
      continue;  // a header that does not exist: the compiler says so
    }
    for (const auto& include : it->second) {
      if (!chains.contains(include.file)) {
        auto chain = chains[at];
        chain.push_back(include.file);
        chains[include.file] = chain;
        todo.push_back(include.file);
      }
    }
  }
  chains.erase(file);
  return chains;
}

// A header of another folder brings in whatever it includes: a file may
// reach, through them, only the folders its own row allows.
TEST(CodeMapTest, NoFileReachesAFolderTheMapForbidsThroughHeaders) {
  auto map = read_map();
  auto graph = includes();
  std::vector<std::string> wrong;
  for (const auto& [file, list] : graph) {
    auto from = folder_of(file);
    std::set<std::string> reported;
    for (const auto& [header, chain] : reached(graph, file)) {
      auto to = folder_of(header);
      if (chain.size() <= 2 || allowed(map, from, to) || !reported.insert(to).second) {
        continue;  // direct includes are the test above's
      }
      std::string via;
      for (std::size_t i = 1; i < chain.size(); ++i) {
        via += (i > 1 ? " -> " : "") + chain[i].string();
      }
      wrong.push_back(file.string() + ": " + from + "/ reaches " + to + "/ through " + via +
                      ", which daemon/README.md does not allow");
    }
  }
  EXPECT_TRUE(wrong.empty()) << ::testing::PrintToString(wrong);
}

TEST(CodeMapTest, EveryFolderTheMapGrantsIsReached) {
  auto map = read_map();
  auto graph = includes();
  std::map<std::string, std::set<std::string>> used;
  for (const auto& [file, list] : graph) {
    for (const auto& [header, chain] : reached(graph, file)) {
      used[folder_of(file)].insert(folder_of(header));
    }
  }
  std::vector<std::string> unused;
  for (const auto& [folder, grants] : map) {
    for (const auto& to : grants) {
      if (!used[folder].contains(to)) {
        unused.push_back("daemon/README.md lets " + folder + "/ include " + to +
                         "/, which no file of " + folder + "/ reaches: take it off the row");
      }
    }
  }
  EXPECT_TRUE(unused.empty()) << ::testing::PrintToString(unused);
}

// The build carries the map: each calloutd_folder(<folder> ...) call in
// cmake/code_map.cmake links only the folders <folder>'s row grants, and
// every folder of the map has its library.
TEST(CodeMapTest, EachFolderLibraryLinksOnlyWhatTheMapGrants) {
  auto map = read_map();
  auto text = read_file(k_source / "cmake" / "code_map.cmake");
  const RE2 call(R"((?m)^calloutd_folder\(([a-z]+)([^)]*)\))");
  const RE2 word(R"(([A-Za-z_:${}.-]+))");
  re2::StringPiece rest(text);
  std::string folder;
  std::string arguments;
  std::set<std::string> libraries;
  std::vector<std::string> wrong;
  while (RE2::FindAndConsume(&rest, call, &folder, &arguments)) {
    libraries.insert(folder);
    re2::StringPiece args(arguments);
    std::string dep;
    while (RE2::FindAndConsume(&args, word, &dep)) {
      if (map.contains(dep) && !allowed(map, folder, dep)) {
        wrong.push_back("cmake/code_map.cmake: calloutd_" + folder + " links calloutd_" + dep +
                        ", which daemon/README.md does not grant " + folder + "/");
      }
    }
  }
  for (const auto& [name, grants] : map) {
    if (!libraries.contains(name)) {
      wrong.push_back("cmake/code_map.cmake: no calloutd_folder(" + name + " ...)");
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
