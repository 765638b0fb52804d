// The README's front door and the docs' links, as a new reader meets them:
// exactly two commands first (the second is what .ci/run runs), a tour that
// works as written against a daemon on a port the test picks, an excerpt
// taken from the generated example, and no relative link that leads nowhere.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/daemon_process.hpp"

namespace calloutd::testing {
namespace {

namespace fs = std::filesystem;
const fs::path k_source = CALLOUTD_SOURCE_DIR;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

struct Block {
  std::string language;
  std::vector<std::string> lines;
  std::size_t section = 0;  // how many `## ` headings come before it
};

std::vector<Block> fenced_blocks(const std::string& text) {
  std::vector<Block> out;
  std::size_t sections = 0;
  bool inside = false;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("```", 0) == 0) {
      if (!inside) {
        out.push_back({line.substr(3), {}, sections});
      }
      inside = !inside;
    } else if (inside) {
      out.back().lines.push_back(line);
    } else if (line.rfind("## ", 0) == 0) {
      ++sections;
    }
  }
  return out;
}

std::string readme() {
  return read_file(k_source / "README.md");
}

TEST(ReadmeTest, OpensWithExactlyTwoCommandsAndTheSecondIsWhatCiRuns) {
  auto text = readme();
  auto lines = lines_of(text);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "# calloutd");
  EXPECT_FALSE(lines[2].empty()) << "one line of what calloutd is, under the title";
  std::vector<Block> first;
  for (auto& b : fenced_blocks(text)) {
    if (b.section == 0) {
      first.push_back(b);
    }
  }
  ASSERT_EQ(first.size(), 2u) << "exactly two code blocks before the first section";
  for (const auto& b : first) {
    EXPECT_EQ(b.language, "sh");
    ASSERT_EQ(b.lines.size(), 1u) << "each command is one line";
  }
  auto ci = lines_of(read_file(k_source / ".ci/run"));
  EXPECT_NE(std::find(ci.begin(), ci.end(), first[1].lines[0]), ci.end())
      << ".ci/run does not run the README's second command";
  EXPECT_NE(first[0].lines[0].find("./build/calloutd"), std::string::npos);
  EXPECT_LE(lines.size(), 200u) << "the README is a front door; topics go to docs/";
}

// The tour's lines: `command   # → what it prints (in part)`.
struct TourStep {
  std::string command;
  std::string claim;
};

std::vector<TourStep> tour() {
  for (auto& b : fenced_blocks(readme())) {
    if (b.language != "sh" || b.section == 0) {
      continue;
    }
    std::vector<TourStep> steps;
    for (const auto& line : b.lines) {
      auto mark = line.find("# → ");
      steps.push_back(mark == std::string::npos
                          ? TourStep{line, ""}
                          : TourStep{line.substr(0, mark), line.substr(mark + strlen("# → "))});
    }
    return steps;  // the first shell block after the commands
  }
  return {};
}

TEST(ReadmeTest, TheTourWorksAsWritten) {
  auto steps = tour();
  ASSERT_GE(steps.size(), 5u);
  // The reader's directory: the clone (its samples) with the build in it.
  fs::path dir = fs::temp_directory_path() / ("readme-tour-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "build");
  fs::create_directory_symlink(k_source / "tests", dir / "tests");
  fs::create_symlink(calloutd_binary(), dir / "build/calloutd");
  fs::create_symlink(calloutctl_binary(), dir / "build/calloutctl");
  DaemonProcess daemon(dir, {});
  // The block as a reader pastes it: one shell, line after line, no retries.
  std::string script = "export CALLOUTD_URL=" + daemon.url() + "\n";
  for (const auto& step : steps) {
    script += step.command + "\n";
  }
  write_file(dir / "tour.sh", script);
  std::string out = run("cd '" + dir.string() + "' && bash tour.sh 2>&1");
  // Each claim is printed, in the order of the lines that claim it.
  std::size_t from = 0;
  for (const auto& step : steps) {
    if (step.claim.empty()) {
      continue;
    }
    auto found = out.find(step.claim, from);
    EXPECT_NE(found, std::string::npos) << step.command << "\nclaims: " << step.claim;
    from = found == std::string::npos ? from : found + step.claim.size();
  }
  if (HasFailure()) {
    ADD_FAILURE() << "the tour printed:\n" << out;
  }
  fs::remove_all(dir);
}

TEST(ReadmeTest, TheCalloutExcerptIsTakenFromTheGeneratedExample) {
  auto example = lines_of(
      read_file(k_source / "docs/examples/api/high-request-latency-2026-11-22/callout.md"));
  std::set<std::string> example_lines(example.begin(), example.end());
  std::size_t checked = 0;
  for (auto& b : fenced_blocks(readme())) {
    if (b.language != "markdown") {
      continue;
    }
    for (const auto& line : b.lines) {
      EXPECT_TRUE(line.empty() || example_lines.contains(line))
          << "not in the generated example: " << line;
      checked += line.empty() ? 0 : 1;
    }
  }
  EXPECT_GE(checked, 5u);
}

// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
std::string anchor_of(std::string heading) {
  std::string out;
  for (unsigned char ch : heading) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch >= 0x80) {
      out += static_cast<char>(std::tolower(ch));
    } else if (ch == ' ') {
      out += '-';
    }
  }
  return out;
}

std::set<std::string> anchors_in(const fs::path& file) {
  std::set<std::string> out;
  bool code = false;
  for (const auto& line : lines_of(read_file(file))) {
    code = line.rfind("```", 0) == 0 ? !code : code;
    if (!code && line.rfind('#', 0) == 0) {
      out.insert(anchor_of(line.substr(line.find(' ') + 1)));
    }
  }
  return out;
}

TEST(DocsTest, EveryRelativeLinkLeadsToAFileAndHeadingThatExist) {
  std::vector<fs::path> pages{k_source / "README.md"};
  for (const auto& e : fs::directory_iterator(k_source / "docs")) {
    if (e.path().extension() == ".md") {
      pages.push_back(e.path());
    }
  }
  static const RE2 k_link(R"(\]\(([^)\s]+)\))");
  static const RE2 k_code_span("`[^`\n]*`");
  for (const auto& page : pages) {
    std::string text;  // without code: links shown as examples are not links
    bool code = false;
    for (const auto& line : lines_of(read_file(page))) {
      code = line.rfind("```", 0) == 0 ? !code : code;
      text += code ? "\n" : line + "\n";
    }
    RE2::GlobalReplace(&text, k_code_span, "");
    re2::StringPiece in(text);
    std::string target;
    while (RE2::FindAndConsume(&in, k_link, &target)) {
      if (target.find("://") != std::string::npos || target.rfind("mailto:", 0) == 0) {
        continue;
      }
      auto hash = target.find('#');
      std::string file = target.substr(0, hash);
      fs::path path = file.empty() ? page : page.parent_path() / file;
      EXPECT_TRUE(fs::exists(path)) << page.filename() << " links to " << target;
      if (hash != std::string::npos && fs::exists(path) && path.extension() == ".md") {
        EXPECT_TRUE(anchors_in(path).contains(target.substr(hash + 1)))
            << page.filename() << " links to " << target << ", a heading that is not there";
      }
    }
  }
}

}  // namespace
}  // namespace calloutd::testing
