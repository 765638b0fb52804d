// The lint's entry points: one file checked (keys, wording, action items,
// timeline) and a path's folder layout; the text helpers its checks share.
#include "daemon/lint/lint.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <tuple>
#include <vector>

#include "daemon/lint/checks.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/layout.hpp"

namespace calloutd::lint {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

bool is_na(std::string_view s) {
  return lower(trim(s)) == "n/a";
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      if (start < text.size()) {
        lines.emplace_back(text.substr(start));
      }
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string Diagnostic::to_string() const {
  std::string where = file;
  if (line > 0) {
    where += ":" + std::to_string(line);
    if (column > 0) {
      where += ":" + std::to_string(column);
    }
  }
  return where + ": " + (level == Level::error ? "error" : "warning") + ": " + message + " [" +
         rule + "]";
}

std::vector<Diagnostic> check_file(const std::string& path, std::string_view text, Kind kind,
                                   const Context& context) {
  Report report(path);
  check_keys(text, kind == Kind::callout ? context.callout_template : context.postmortem_template,
             kind, path, report);
  check_wording(text, context, report);
  if (kind == Kind::postmortem) {
    check_action_items(text, report);
  }
  check_timeline(text, kind, report);
  auto out = report.take();
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return out;
}

std::vector<Diagnostic> check_layout(const std::string& path) {
  Report report(path);
  auto where = layout::parse_path(path);
  if (!where) {
    report.add(0, 0, Level::error, "layout",
               "not at <technology>/<issue>-<YYYY-MM-DD>/callout.md or postmortem.md");
    return report.take();
  }
  if (technology_slug(where->technology) != where->technology) {
    report.add(0, 0, Level::error, "layout",
               "technology folder \"" + where->technology + "\" is not a slug (\"" +
                   technology_slug(where->technology) + "\")");
  }
  if (!layout::parse_folder(where->folder)) {
    report.add(0, 0, Level::error, "layout",
               "callout folder \"" + where->folder +
                   "\" is not <issue>-<YYYY-MM-DD>[-N] (issue in kebab-case, N from 2)");
  }
  return report.take();
}

}  // namespace calloutd::lint
