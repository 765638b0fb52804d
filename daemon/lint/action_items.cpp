// The lint's checks of structure inside a key: action items that can be
// tracked (type, owner, status, a ticket or date) and timelines in order.
#include "daemon/lint/checks.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/base/timefmt.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd::lint {

namespace {

// --- action items -------------------------------------------------------------

// The 1-based column where cell `index` of a table row starts in `line`.
int cell_column(const std::string& line, std::size_t index) {
  std::size_t seen = 0;
  bool leading = trim(line).rfind('|', 0) == 0;
  std::size_t i = leading ? line.find('|') + 1 : 0;
  for (; i < line.size() && seen < index; ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '|') {
      ++seen;
    }
  }
  while (i < line.size() && line[i] == ' ') {
    ++i;
  }
  return static_cast<int>(i) + 1;
}

// The columns an Action Items table must have.
const std::vector<std::string>& action_columns() {
  static const std::vector<std::string> k{"Action Item", "Type", "Ticket",
                                          "Owner",       "Due",  "Status"};
  return k;
}

// The index of each column of `table` by its lower-case name; nullopt (reported)
// when a required one is missing.
std::optional<std::map<std::string, std::size_t>> action_column_index(const markdown::Table& table,
                                                                      Report& report) {
  std::map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < table.header.size(); ++i) {
    at[lower(trim(table.header[i]))] = i;
  }
  bool complete = true;
  for (const auto& c : action_columns()) {
    if (!at.contains(lower(c))) {
      report.add(table.line, 1, Level::error, "action-items",
                 "the Action Items table has no \"" + c +
                     "\" column (columns: Action Item, Type, Owner, Ticket, Due, Status)");
      complete = false;
    }
  }
  if (!complete) {
    return std::nullopt;
  }
  return at;
}

// One row of an Action Items table, its cells by column name.
class ActionItem {
 public:
  ActionItem(const markdown::TableRow& row, const std::map<std::string, std::size_t>& at,
             const std::string& line, Report& report)
      : m_row(row), m_at(at), m_line(line), m_report(report) {}

  std::string cell(const std::string& name) const {
    auto i = m_at.at(lower(name));
    return i < m_row.cells.size() ? trim(m_row.cells[i]) : std::string();
  }
  // A problem reported at the start of the cell in `column`.
  void problem(const std::string& column, const std::string& message,
               Level level = Level::error) const {
    m_report.add(m_row.line, cell_column(m_line, m_at.at(lower(column))), level, "action-items",
                 message);
  }

 private:
  const markdown::TableRow& m_row;
  const std::map<std::string, std::size_t>& m_at;
  const std::string& m_line;  // the row's source line
  Report& m_report;
};

void check_action_status(const ActionItem& item) {
  static const std::set<std::string> k_statuses{"TODO", "IN PROGRESS", "DONE", "WONTFIX"};
  auto status = item.cell("Status");
  if (k_statuses.contains(status)) {
    return;
  }
  std::string upper(status);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (k_statuses.contains(upper)) {
    item.problem("Status", "status \"" + status + "\" is written " + upper, Level::warning);
  } else {
    item.problem("Status",
                 "status \"" + status + "\" is not one of TODO, IN PROGRESS, DONE, WONTFIX");
  }
}

void check_action_item(const ActionItem& item) {
  static const std::set<std::string> k_types{"mitigate", "prevent", "process", "other"};
  if (item.cell("Action Item").empty() || is_na(item.cell("Action Item"))) {
    item.problem("Action Item", "action item without a description");
  }
  if (!k_types.contains(item.cell("Type"))) {
    item.problem("Type", "type \"" + item.cell("Type") +
                             "\" is not one of mitigate, prevent, process, other");
  }
  if (item.cell("Owner").empty() || is_na(item.cell("Owner"))) {
    item.problem("Owner", "action item without an Owner (a team or a person)");
  }
  if (item.cell("Ticket").empty()) {
    item.problem("Ticket", "action item without a Ticket (a ticket number or link, else n/a)");
  }
  if (!layout::real_date(item.cell("Due"))) {
    item.problem("Due", "due \"" + item.cell("Due") + "\" is not a date (YYYY-MM-DD)");
  }
  check_action_status(item);
}

// Every row of one Action Items table but n/a placeholders.
void check_action_table(const markdown::Table& table, const std::vector<std::string>& lines,
                        Report& report) {
  if (table.header.empty()) {
    report.add(table.line, 1, Level::error, "action-items",
               "table rows split off by a blank line: GitHub shows them as text, not items");
    return;
  }
  auto at = action_column_index(table, report);
  if (!at) {
    return;
  }
  for (const auto& row : table.rows) {
    bool placeholder = std::all_of(row.cells.begin(), row.cells.end(),
                                   [](const auto& c) { return trim(c).empty() || is_na(c); });
    if (placeholder) {
      continue;  // an n/a row: no items yet
    }
    const std::string line = row.line >= 1 && row.line <= static_cast<int>(lines.size())
                                 ? lines[static_cast<std::size_t>(row.line - 1)]
                                 : std::string();
    check_action_item(ActionItem(row, *at, line, report));
  }
}
}  // namespace

void check_action_items(std::string_view doc, Report& report) {
  auto headings = markdown::heading_lines(doc);
  auto section = std::find_if(headings.begin(), headings.end(),
                              [](const auto& h) { return lower(trim(h.text)) == "action items"; });
  if (section == headings.end()) {
    return;  // reported as a missing key
  }
  auto tables = markdown::tables(doc, keys::k_action_items);
  if (tables.empty()) {
    report.add(section->line, 1, Level::error, "action-items",
               "Action Items has no table (keep the header row: | Action Item | Type | Owner | "
               "Ticket | Due | Status |)");
    return;
  }
  auto lines = split_lines(doc);
  for (const auto& table : tables) {
    check_action_table(table, lines, report);
  }
}

// --- timeline -----------------------------------------------------------------

void check_timeline(std::string_view doc, Kind kind, Report& report) {
  const char* key = kind == Kind::callout ? keys::k_incident_timeline : keys::k_timeline;
  auto items = markdown::list_items(doc, key);
  if (items.size() == 1 && is_na(items.front().cells.front())) {
    return;
  }
  std::optional<TimePoint> previous;
  for (const auto& item : items) {
    auto t = parse_timeline_time(item.cells.front());
    if (!t) {
      report.add(item.line, 1, Level::error, "timeline",
                 std::string("timeline entry does not start with a UTC time (YYYY-MM-DD HH:MM:SS "
                             "UTC) in ") +
                     key);
      continue;
    }
    if (previous && kind == Kind::callout && *t > *previous) {
      report.add(item.line, 1, Level::error, "timeline",
                 "timeline entry " + format_utc(*t) +
                     " is newer than the one above it (the callout's timeline is newest first)");
    } else if (previous && kind == Kind::postmortem && *t < *previous) {
      report.add(item.line, 1, Level::error, "timeline",
                 "timeline entry " + format_utc(*t) +
                     " is older than the one above it (the postmortem's timeline is oldest first)");
    }
    previous = t;
  }
}

}  // namespace calloutd::lint
