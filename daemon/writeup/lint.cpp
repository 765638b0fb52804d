#include "daemon/writeup/lint.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>

#include "daemon/base/timefmt.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd::lint {

namespace {

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

void check_keys(std::string_view text, std::string_view tmpl, Kind kind, const std::string& path,
                Report& report) {
  auto want = template_keys(tmpl);
  auto have = markdown::heading_lines(text);
  check_title(have, kind, path, report);
  check_key_order(want, find_keys(want, have), static_cast<int>(split_lines(text).size()), report);
}

// --- wording ----------------------------------------------------------------

struct Pronoun {
  Level level;
  const char* hint;
};

const std::map<std::string, Pronoun>& pronouns() {
  static const char* k_who = "write what the system did, not who";
  static const char* k_they = "if it names a person, write the role or the system instead";
  static const std::map<std::string, Pronoun> k{{"i", {Level::error, k_who}},
                                                {"me", {Level::error, k_who}},
                                                {"my", {Level::error, k_who}},
                                                {"mine", {Level::error, k_who}},
                                                {"myself", {Level::error, k_who}},
                                                {"we", {Level::error, k_who}},
                                                {"us", {Level::error, k_who}},
                                                {"our", {Level::error, k_who}},
                                                {"ours", {Level::error, k_who}},
                                                {"ourselves", {Level::error, k_who}},
                                                {"he", {Level::error, k_who}},
                                                {"him", {Level::error, k_who}},
                                                {"his", {Level::error, k_who}},
                                                {"himself", {Level::error, k_who}},
                                                {"she", {Level::error, k_who}},
                                                {"her", {Level::error, k_who}},
                                                {"hers", {Level::error, k_who}},
                                                {"herself", {Level::error, k_who}},
                                                {"they", {Level::warning, k_they}},
                                                {"them", {Level::warning, k_they}},
                                                {"their", {Level::warning, k_they}},
                                                {"theirs", {Level::warning, k_they}},
                                                {"themselves", {Level::warning, k_they}}};
  return k;
}

const std::vector<std::string>& blame_phrases() {
  static const std::vector<std::string> k{"should have known",
                                          "should have noticed",
                                          "should have checked",
                                          "fault of",
                                          "at fault",
                                          "human error",
                                          "careless",
                                          "carelessly",
                                          "carelessness",
                                          "negligent",
                                          "negligence",
                                          "blame",
                                          "blamed",
                                          "to blame",
                                          "incompetent",
                                          "sloppy",
                                          "stupid",
                                          "lazy"};
  return k;
}

// `text` with quoted passages ("...", “...”) blanked out, offsets kept.
std::string without_quotes(std::string text) {
  for (const auto& [open, close] : {std::pair<std::string, std::string>{"\"", "\""},
                                    std::pair<std::string, std::string>{"\u201c", "\u201d"}}) {
    std::size_t from = 0;
    while (true) {
      auto a = text.find(open, from);
      if (a == std::string::npos) {
        break;
      }
      auto b = text.find(close, a + open.size());
      if (b == std::string::npos) {
        break;
      }
      // Every byte, so that columns after the quote stay where they were.
      std::fill(text.begin() + static_cast<long>(a),
                text.begin() + static_cast<long>(b + close.size()), ' ');
      from = b + close.size();
    }
  }
  return text;
}

struct Token {
  std::size_t offset;
  std::string text;
};

// Words: runs of letters (any script: "Zoë" is one word), digits and the
// joiners of identifiers (my-service, api.v1, I/O stay one token), trailing
// punctuation dropped.
std::vector<Token> tokens(const std::string& text) {
  static const RE2 k_word(R"(([\p{L}\p{M}\p{N}_'./:@-]+))");
  std::vector<Token> out;
  re2::StringPiece input(text);
  re2::StringPiece word;
  while (RE2::FindAndConsume(&input, k_word, &word)) {
    std::string w(word);
    auto offset = static_cast<std::size_t>(word.data() - text.data());
    while (!w.empty() && std::string_view(".,:;!?'-/").find(w.back()) != std::string_view::npos) {
      w.pop_back();
    }
    while (!w.empty() && std::string_view("'-./").find(w.front()) != std::string_view::npos) {
      w.erase(0, 1);
      ++offset;
    }
    if (!w.empty()) {
      out.push_back({offset, w});
    }
  }
  return out;
}

// The pronoun a token is, if any: contractions count (we're, he's), and "I"
// and "us" only as written (so "i.e." and "US" are not pronouns).
std::optional<std::string> pronoun_of(const std::string& token) {
  auto base = token.substr(0, token.find('\''));
  if (base.find_first_of("./:@_-0123456789") != std::string::npos) {
    return std::nullopt;
  }
  auto key = lower(base);
  if (!pronouns().contains(key)) {
    return std::nullopt;
  }
  if ((key == "i" && base != "I") || (key == "us" && base != "us")) {
    return std::nullopt;
  }
  return key;
}

bool word_at(const std::string& text, std::size_t at, std::size_t length) {
  // Bytes of multibyte characters count as letters: "Zoë" is not inside "Zoëlle".
  auto is_word = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || c == '_' || u >= 0x80;
  };
  return (at == 0 || !is_word(text[at - 1])) &&
         (at + length >= text.size() || !is_word(text[at + length]));
}

// Starts a sentence: the first word of the run, or after . ! ?
bool sentence_start(const std::string& text, std::size_t at) {
  auto before = text.find_last_not_of(" \t", at == 0 ? 0 : at - 1);
  return at == 0 || before == std::string::npos ||
         std::string_view(".!?:").find(text[before]) != std::string_view::npos;
}

// The parts of multi-word names ("Grant" of "Will Grant"), checked as words.
// Only capitalised parts, as people write a name: the lower-case words of a
// name like "callout bot" are ordinary words ("callout opened"), and a
// mention of that holder writes the whole name.
std::set<std::string> name_parts(const std::set<std::string>& names) {
  static const RE2 k_capitalised(R"(\p{Lu}.*)");
  std::set<std::string> parts;
  for (const auto& name : names) {
    for (const auto& t : tokens(name)) {
      if (t.text.size() >= 3 && t.text != name && RE2::FullMatch(t.text, k_capitalised)) {
        parts.insert(t.text);
      }
    }
  }
  return parts;
}

bool names_belong_in(const markdown::TextRun& run) {
  auto key = lower(run.key);
  return key == "team roles" || lower(run.column_header) == "owner" ||
         (key == "review" && lower(run.list_label) == "reviewers");
}

// One run of prose, its quotes blanked out, and where to report in it.
struct Prose {
  const markdown::TextRun& run;
  std::string text;   // without quotes
  std::string where;  // the key it is under, for messages
  int column(std::size_t offset) const { return run.column + static_cast<int>(offset); }
};

using Spans = std::vector<std::pair<std::size_t, std::size_t>>;

// Whole names in the prose; the spans reported.
Spans check_names(const Prose& p, const std::set<std::string>& names, Report& report) {
  Spans named;
  for (const auto& name : names) {
    for (auto at = p.text.find(name); at != std::string::npos; at = p.text.find(name, at + 1)) {
      if (word_at(p.text, at, name.size())) {
        report.add(p.run.line, p.column(at), Level::error, "name",
                   "name \"" + name + "\" in " + p.where +
                       " (names belong in Team roles and the Owner column only)");
        named.emplace_back(at, at + name.size());
      }
    }
  }
  return named;
}

// Pronouns and parts of names, outside the names already reported.
void check_words(const Prose& p, const std::set<std::string>& parts, const Spans& named,
                 Report& report) {
  for (const auto& t : tokens(p.text)) {
    bool inside = std::any_of(named.begin(), named.end(), [&](const auto& span) {
      return t.offset >= span.first && t.offset < span.second;
    });
    if (inside) {
      continue;
    }
    if (auto pronoun = pronoun_of(t.text)) {
      const auto& info = pronouns().at(*pronoun);
      report.add(p.run.line, p.column(t.offset), info.level, "pronoun",
                 "pronoun \"" + t.text.substr(0, t.text.find('\'')) + "\" in " + p.where + " (" +
                     info.hint + ")");
    } else if (parts.contains(t.text) && !sentence_start(p.text, t.offset)) {
      report.add(p.run.line, p.column(t.offset), Level::error, "name",
                 "name \"" + t.text + "\" in " + p.where +
                     " (names belong in Team roles and the Owner column only)");
    }
  }
}

void check_blame(const Prose& p, Report& report) {
  auto low = lower(p.text);
  for (const auto& phrase : blame_phrases()) {
    for (auto at = low.find(phrase); at != std::string::npos; at = low.find(phrase, at + 1)) {
      if (word_at(low, at, phrase.size())) {
        report.add(p.run.line, p.column(at), Level::warning, "blame",
                   "blaming words \"" + p.text.substr(at, phrase.size()) + "\" in " + p.where +
                       " (describe what happened and what the system allowed)");
      }
    }
  }
}

void check_wording(std::string_view doc, const Context& context, Report& report) {
  auto parts = name_parts(context.names);
  for (const auto& run : markdown::prose(doc)) {
    if (names_belong_in(run)) {
      continue;
    }
    const Prose p{run, without_quotes(run.text), run.key.empty() ? "the title" : run.key};
    auto named = check_names(p, context.names, report);
    check_words(p, parts, named, report);
    check_blame(p, report);
  }
}

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

void check_action_items(std::string_view doc, Report& report) {
  auto headings = markdown::heading_lines(doc);
  auto section = std::find_if(headings.begin(), headings.end(),
                              [](const auto& h) { return lower(trim(h.text)) == "action items"; });
  if (section == headings.end()) {
    return;  // reported as a missing key
  }
  auto tables = markdown::tables(doc, "Action Items");
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
  const char* key = kind == Kind::callout ? "Incident timeline" : "Timeline";
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

}  // namespace

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
