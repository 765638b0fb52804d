#include "daemon/writeup/postmortem.hpp"

#include <sstream>

#include <re2/re2.h>

#include <algorithm>
#include <map>

#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

bool is_na(const std::string& s) {
  auto l = lower(s);
  return l.empty() || l == "n/a" || l == "na" || l == "-" || l == "none";
}

// "in-progress", "In Progress", "in_progress" -> IN PROGRESS; "won't fix" -> WONTFIX.
std::string normalise_status(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_' || c == ' ') {
      if (!out.empty() && out.back() != ' ') {
        out += ' ';
      }
    } else if (c != '\'' && c != '*' && c != '`') {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  if (out == "WONT FIX" || out == "WONTFIX") {
    return "WONTFIX";
  }
  if (out == "INPROGRESS") {
    return "IN PROGRESS";
  }
  return out;
}

std::optional<std::chrono::sys_days> parse_date(const std::string& s) {
  int y = 0, m = 0, d = 0;
  if (!RE2::FullMatch(s, R"((\d{4})-(\d{2})-(\d{2}))", &y, &m, &d)) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year{y},
                                  std::chrono::month{static_cast<unsigned>(m)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  return std::chrono::sys_days{ymd};
}

// Which column holds what, matched by header name.
struct Columns {
  std::map<std::string, std::size_t> at;
  std::optional<std::size_t> get(const char* name) const {
    auto it = at.find(name);
    return it == at.end() ? std::nullopt : std::optional(it->second);
  }
};

Columns columns_of(const std::vector<std::string>& header) {
  static const std::map<std::string, std::string> k_names{
      {"action item", "item"}, {"action items", "item"}, {"action", "item"},
      {"item", "item"},        {"type", "type"},         {"owner", "owner"},
      {"ticket", "ticket"},    {"tickets", "ticket"},    {"due", "due"},
      {"due date", "due"},     {"status", "status"}};
  Columns c;
  for (std::size_t i = 0; i < header.size(); ++i) {
    auto it = k_names.find(lower(header[i]));
    if (it != k_names.end() && !c.at.contains(it->second)) {
      c.at[it->second] = i;
    }
  }
  return c;
}

void read_row(const markdown::TableRow& row, const Columns& cols, const std::string& path,
              PostmortemFile& out) {
  auto cell = [&](const char* name) {
    auto i = cols.get(name);
    return i && *i < row.cells.size() ? row.cells[*i] : std::string{};
  };
  bool all_empty = std::all_of(row.cells.begin(), row.cells.end(),
                               [](const std::string& c) { return is_na(c); });
  if (all_empty || is_na(cell("item"))) {
    return;  // an empty or placeholder row
  }
  auto problem = [&](const std::string& what) {
    out.problems.push_back({path, row.line, "Action Items: " + what});
  };
  ActionItem item;
  item.line = row.line;
  item.text = cell("item");
  item.owner = cell("owner");
  item.ticket = cell("ticket");
  item.type = lower(cell("type"));
  const auto& types = action_item_types();
  if (std::find(types.begin(), types.end(), item.type) == types.end()) {
    problem("Type \"" + cell("type") + "\" is not one of mitigate, prevent, process, other");
    item.type = "other";
  }
  item.status = normalise_status(cell("status"));
  static const std::vector<std::string> k_statuses{"TODO", "IN PROGRESS", "DONE", "WONTFIX"};
  if (std::find(k_statuses.begin(), k_statuses.end(), item.status) == k_statuses.end()) {
    // Counted as open: an unreadable status must not make an item disappear.
    problem("Status \"" + cell("status") + "\" is not one of TODO, IN PROGRESS, DONE, WONTFIX");
    item.status = "TODO";
  }
  std::string due = cell("due");
  if (!is_na(due)) {
    item.due = parse_date(due);
    if (!item.due) {
      problem("Due \"" + due + "\" is not a date (YYYY-MM-DD)");
    }
  }
  out.items.push_back(std::move(item));
}

// What the review gate needs written: the narrative, the authors, and why
// there are no action items when there are none.
void read_narrative(std::string_view doc, PostmortemFile& out) {
  for (const char* key : {keys::k_summary, keys::k_impact, keys::k_root_causes, keys::k_trigger,
                          keys::k_resolution}) {
    auto text = markdown::key_text(doc, key);
    if (!text || is_na(*text) || text->find_first_not_of(" \t\n") == std::string::npos) {
      out.unwritten.emplace_back(key);
    }
  }
  auto authors = markdown::key_text(doc, keys::k_authors);
  out.authors_named =
      authors && !is_na(*authors) && authors->find_first_not_of(" \t\n") != std::string::npos;
  // The key's text outside its table: "None: the fix is the rollback above."
  std::string said;
  std::istringstream lines(markdown::key_text(doc, keys::k_action_items).value_or(""));
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t") != std::string::npos &&
        line[line.find_first_not_of(" \t")] != '|') {
      said += line;
    }
  }
  out.no_items_explained = !said.empty() && !is_na(said);
}

}  // namespace

const std::vector<std::string>& action_item_types() {
  static const std::vector<std::string> k_types{"mitigate", "prevent", "process", "other"};
  return k_types;
}

PostmortemFile read_postmortem(std::string_view doc, const std::string& path) {
  PostmortemFile out;
  auto status = markdown::key_text(doc, keys::k_status);
  if (!status) {
    out.problems.push_back({path, 1, "the Status key is missing"});
  } else {
    out.status = lower(*status);
  }
  std::optional<Columns> last;
  auto tables = markdown::tables(doc, keys::k_action_items);
  for (const auto& t : tables) {
    Columns cols = t.header.empty() && last ? *last : columns_of(t.header);
    for (const char* required : {"item", "type", "due", "status"}) {
      if (!cols.get(required)) {
        out.problems.push_back(
            {path, t.line,
             std::string("Action Items: no \"") +
                 (std::string(required) == "item" ? "Action Item" : required) +
                 "\" column (expected | Action Item | Type | Owner | Ticket | Due | Status |)"});
      }
    }
    if (!cols.get("item") || !cols.get("status")) {
      continue;
    }
    last = cols;
    for (const auto& row : t.rows) {
      read_row(row, cols, path, out);
    }
  }
  if (tables.empty() && !markdown::key_text(doc, keys::k_action_items)) {
    out.problems.push_back({path, 1, "the Action Items key is missing"});
  }
  read_narrative(doc, out);
  for (const auto& item : markdown::list_items(doc, keys::k_review)) {
    const std::string& text = item.cells.front();
    std::string l = lower(text);
    if (l.rfind("reviewers:", 0) == 0) {
      std::string names = text.substr(10);
      names.erase(0, names.find_first_not_of(' '));
      if (!is_na(names)) {
        out.reviewers.push_back(names);
      }
    } else if (l.rfind("[ ]", 0) == 0) {
      out.unchecked.push_back(text.substr(3));
    }
  }
  return out;
}

CalloutFile read_callout(std::string_view doc, const std::string& path) {
  CalloutFile out;
  auto status = markdown::key_text(doc, keys::k_status);
  auto severity = markdown::key_text(doc, keys::k_severity);
  if (!status) {
    out.problems.push_back({path, 1, "the Status key is missing"});
  } else {
    out.status = lower(*status);
    if (out.status != "active" && out.status != "resolved") {
      out.problems.push_back(
          {path, 1, "Status \"" + *status + "\" is neither active nor resolved"});
    }
  }
  if (severity) {
    out.severity = *severity;
    std::transform(out.severity.begin(), out.severity.end(), out.severity.begin(),
                   [](unsigned char c) { return std::toupper(c); });
  }
  if (out.severity != "MPI" && out.severity != "HPI") {
    out.problems.push_back(
        {path, 1, "Severity \"" + severity.value_or("") + "\" is neither MPI nor HPI"});
  }
  for (const auto& item : markdown::list_items(doc, keys::k_team_roles)) {
    const std::string& text = item.cells.front();
    auto colon = text.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string label = text.substr(0, colon);
    std::string holder = text.substr(colon + 1);
    auto trim = [](std::string& t) {
      t.erase(0, t.find_first_not_of(" \t"));
      t.erase(t.find_last_not_of(" \t") + 1);
    };
    trim(label);
    trim(holder);
    for (const char* role : k_team_roles) {
      if (lower(label) == lower(role)) {
        out.roles[role] = is_na(holder) ? "" : holder;
      }
    }
  }
  for (const auto& item : markdown::list_items(doc, keys::k_incident_timeline)) {
    auto t = parse_timeline_time(item.cells.front());
    if (t && (!out.last_entry || *t > *out.last_entry)) {
      out.last_entry = t;
    }
  }
  return out;
}

}  // namespace calloutd

namespace calloutd {

std::vector<std::string> transition_blockers(const PostmortemFile& file, const std::string& to) {
  std::vector<std::string> out;
  if (to != "draft" && to != "in review" && to != "published") {
    out.push_back("\"" + to + "\" is not a postmortem status (draft, in review, published)");
    return out;
  }
  if (to == "draft") {
    return out;
  }
  if (to == "published" && file.status != "in review" && file.status != "published") {
    out.push_back("the postmortem is \"" + file.status +
                  "\": it goes to review before it is published");
  }
  for (const auto& key : file.unwritten) {
    out.push_back(key + ": not written yet (still n/a)");
  }
  if (!file.authors_named) {
    out.push_back("Authors: none named (roles, not names, until the review)");
  }
  if (file.items.empty() && !file.no_items_explained) {
    out.push_back("Action Items: none, and no sentence saying why none are needed");
  }
  if (file.reviewers.empty()) {
    out.push_back("Review: no reviewers named");
  }
  if (to == "published") {
    for (const auto& item : file.unchecked) {
      auto text = item;
      text.erase(0, text.find_first_not_of(' '));
      out.push_back("Review checklist: \"" + text + "\" is not ticked");
    }
  }
  return out;
}

}  // namespace calloutd
