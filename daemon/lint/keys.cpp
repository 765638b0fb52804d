// The lint's key checks: every key of the template in use present, in the
// template's order, and n/a rather than empty.
#include "daemon/lint/checks.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd::lint {

namespace {

// --- keys -------------------------------------------------------------------

// The template's keys: its headings below the title.
std::vector<markdown::Heading> template_keys(std::string_view tmpl) {
  std::vector<markdown::Heading> want;
  for (const auto& h : markdown::heading_lines(tmpl)) {
    if (h.level >= 2) {
      want.push_back(h);
    }
  }
  return want;
}

// Title line: "<summary> - CALLOUT - <YYYY-MM-DD>", its date the folder's.
void check_title(const std::vector<markdown::Heading>& have, Kind kind, const std::string& path,
                 Report& report) {
  const std::string word = kind == Kind::callout ? "CALLOUT" : "POSTMORTEM";
  const RE2 title_re("^(.+) - " + word + R"( - (\d{4}-\d{2}-\d{2})$)");
  std::string title_date;
  if (have.empty() || have.front().level != 1 ||
      !RE2::FullMatch(have.front().text, title_re, nullptr, &title_date)) {
    report.add(have.empty() || have.front().level != 1 ? 1 : have.front().line, 1, Level::error,
               "keys", "the title line is not \"<summary> - " + word + " - <YYYY-MM-DD>\"");
    return;
  }
  auto where = layout::parse_path(path);
  auto folder = where ? layout::parse_folder_loosely(where->folder) : std::nullopt;
  if (folder && folder->date != title_date) {
    report.add(have.front().line, 1, Level::warning, "keys",
               "the title's date " + title_date + " differs from the folder's " + folder->date);
  }
}

// Where each template key is in the document (first occurrence), nullptr when absent.
std::vector<const markdown::Heading*> find_keys(const std::vector<markdown::Heading>& want,
                                                const std::vector<markdown::Heading>& have) {
  std::vector<const markdown::Heading*> found(want.size(), nullptr);
  for (std::size_t i = 0; i < want.size(); ++i) {
    for (const auto& h : have) {
      if (h.level >= 2 && lower(trim(h.text)) == lower(trim(want[i].text))) {
        found[i] = &h;
        break;
      }
    }
  }
  return found;
}

// Where a missing key `i` belongs: at the next key found, else at the end.
int missing_key_line(const std::vector<const markdown::Heading*>& found, std::size_t i,
                     int last_line) {
  for (std::size_t j = i + 1; j < found.size(); ++j) {
    if (found[j] != nullptr) {
      return found[j]->line;
    }
  }
  return last_line;
}

// Every template key present, in the template's order, with a value where
// the template has one.
void check_key_order(const std::vector<markdown::Heading>& want,
                     const std::vector<const markdown::Heading*>& found, int last_line,
                     Report& report) {
  int furthest = 0;  // the line of the furthest key seen so far, in template order
  std::string furthest_key;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (found[i] == nullptr) {
      report.add(missing_key_line(found, i, last_line), 1, Level::error, "keys",
                 "missing key \"" + want[i].text +
                     "\" (never remove a key: write n/a where it does not apply)");
      continue;
    }
    if (found[i]->line < furthest) {
      report.add(found[i]->line, 1, Level::error, "keys",
                 "key \"" + want[i].text + "\" is out of order: the template puts it after \"" +
                     furthest_key + "\"");
    } else {
      furthest = found[i]->line;
      furthest_key = want[i].text;
    }
    if (want[i].has_content && !found[i]->has_content) {
      report.add(found[i]->line, 1, Level::error, "empty-key",
                 "key \"" + want[i].text + "\" has no value (write n/a where it does not apply)");
    }
  }
}
}  // namespace

void check_keys(std::string_view text, std::string_view tmpl, Kind kind, const std::string& path,
                Report& report) {
  auto want = template_keys(tmpl);
  auto have = markdown::heading_lines(text);
  check_title(have, kind, path, report);
  check_key_order(want, find_keys(want, have), static_cast<int>(split_lines(text).size()), report);
}

}  // namespace calloutd::lint
