// What the lint's checks share: the report they add diagnostics to, small
// text helpers, and one entry point per family of checks. Internal to lint/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/lint/lint.hpp"

namespace calloutd::lint {

class Report {
 public:
  explicit Report(std::string file) : m_file(std::move(file)) {}
  void add(int line, int column, Level level, std::string rule, std::string message) {
    m_out.push_back({m_file, line, column, level, std::move(rule), std::move(message)});
  }
  std::vector<Diagnostic> take() { return std::move(m_out); }

 private:
  std::string m_file;
  std::vector<Diagnostic> m_out;
};

std::string lower(std::string_view s);
std::string trim(std::string_view s);
bool is_na(std::string_view s);
std::vector<std::string> split_lines(std::string_view text);

// keys.cpp: every key of the template present, in order, n/a rather than empty.
void check_keys(std::string_view text, std::string_view tmpl, Kind kind, const std::string& path,
                Report& report);

// given_names.cpp (generated): Debian's list of given names, one a line.
std::string_view given_names_text();

// wording.cpp: names, pronouns and blaming words in the narrative.
void check_wording(std::string_view doc, const Context& context, Report& report);

// action_items.cpp: trackable action items (postmortems) and ordered timelines.
void check_action_items(std::string_view doc, Report& report);
void check_timeline(std::string_view doc, Kind kind, Report& report);

}  // namespace calloutd::lint
