#include "daemon/writeup/markdown.hpp"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "daemon/text/untrusted_text.hpp"
#include "daemon/text/url_redact.hpp"

namespace calloutd::markdown {
namespace {

// One top-level block of the document, with its 1-based source lines.
struct Block {
  cmark_node_type type = CMARK_NODE_NONE;
  int level = 0;  // headings only
  int start_line = 0;
  int end_line = 0;
  std::string text;             // heading or paragraph text
  std::vector<int> item_lines;  // lists only: the first line of each item
  std::vector<int> item_end_lines;
};

std::string node_text(cmark_node* node) {
  std::string out;
  cmark_iter* iter = cmark_iter_new(node);
  cmark_event_type ev;
  while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
    cmark_node* n = cmark_iter_get_node(iter);
    if (ev != CMARK_EVENT_ENTER) {
      continue;
    }
    auto type = cmark_node_get_type(n);
    if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE) {
      const char* lit = cmark_node_get_literal(n);
      out += lit != nullptr ? lit : "";
    } else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK) {
      out += ' ';
    }
  }
  cmark_iter_free(iter);
  return out;
}

using NodePtr = std::unique_ptr<cmark_node, decltype(&cmark_node_free)>;

// `doc` parsed as GitHub does (GFM, tables), with source positions.
NodePtr parse_document(std::string_view doc) {
  static std::once_flag k_registered;
  std::call_once(k_registered, [] { cmark_gfm_core_extensions_ensure_registered(); });
  std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(
      cmark_parser_new(CMARK_OPT_SOURCEPOS), &cmark_parser_free);
  if (auto* table = cmark_find_syntax_extension("table")) {
    cmark_parser_attach_syntax_extension(parser.get(), table);
  }
  cmark_parser_feed(parser.get(), doc.data(), doc.size());
  return NodePtr(cmark_parser_finish(parser.get()), &cmark_node_free);
}

std::vector<Block> parse_blocks(std::string_view doc) {
  NodePtr root = parse_document(doc);
  std::vector<Block> blocks;
  for (cmark_node* n = cmark_node_first_child(root.get()); n != nullptr; n = cmark_node_next(n)) {
    Block b;
    b.type = cmark_node_get_type(n);
    b.start_line = cmark_node_get_start_line(n);
    b.end_line = cmark_node_get_end_line(n);
    if (b.type == CMARK_NODE_HEADING) {
      b.level = cmark_node_get_heading_level(n);
      b.text = node_text(n);
    } else if (b.type == CMARK_NODE_PARAGRAPH) {
      b.text = node_text(n);
    } else if (b.type == CMARK_NODE_LIST) {
      for (cmark_node* item = cmark_node_first_child(n); item != nullptr;
           item = cmark_node_next(item)) {
        b.item_lines.push_back(cmark_node_get_start_line(item));
        b.item_end_lines.push_back(cmark_node_get_end_line(item));
      }
    }
    blocks.push_back(std::move(b));
  }
  return blocks;
}

std::string normalize_key(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && (out.back() == ':' || out.back() == ' ')) {
    out.pop_back();
  }
  while (!out.empty() && out.front() == ' ') {
    out.erase(out.begin());
  }
  return out;
}

bool trimmed_empty(const std::string& line) {
  return line.find_first_not_of(" \t") == std::string::npos;
}

// The document as lines split the way cmark counts them (`\n`, `\r\n` or a
// lone `\r`), each with its own ending, so that joining gives back every byte.
struct Lines {
  std::vector<std::string> lines;
  std::vector<std::string> endings;
  std::string eol = "\n";  // for added lines: the document's first ending

  explicit Lines(std::string_view doc) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < doc.size(); ++i) {
      if (doc[i] != '\n' && doc[i] != '\r') {
        continue;
      }
      std::size_t width = doc[i] == '\r' && i + 1 < doc.size() && doc[i + 1] == '\n' ? 2 : 1;
      lines.emplace_back(doc.substr(start, i - start));
      endings.emplace_back(doc.substr(i, width));
      i += width - 1;
      start = i + 1;
    }
    if (start < doc.size()) {
      lines.emplace_back(doc.substr(start));
      endings.emplace_back("");
    }
    if (!endings.empty() && !endings.front().empty()) {
      eol = endings.front();
    }
  }

  std::string join() const {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      out += lines[i];
      out += endings[i];
    }
    return out;
  }

  // The 1-based line `n`, or "" past the end.
  const std::string& at(int n) const {
    static const std::string k_none;
    return n >= 1 && n <= static_cast<int>(lines.size()) ? lines[n - 1] : k_none;
  }

  // Inserts before 1-based line `line` (size()+1 appends).
  void insert(int line, const std::vector<std::string>& add) {
    int at = std::clamp(line - 1, 0, static_cast<int>(lines.size()));
    if (at == static_cast<int>(lines.size()) && !endings.empty() && endings.back().empty()) {
      endings.back() = eol;  // the last line gains an ending before new lines follow
    }
    lines.insert(lines.begin() + at, add.begin(), add.end());
    endings.insert(endings.begin() + at, add.size(), eol);
  }

  // Removes 1-based lines [first, last].
  void erase(int first, int last) {
    first = std::clamp(first, 1, static_cast<int>(lines.size()) + 1);
    last = std::clamp(last, first - 1, static_cast<int>(lines.size()));
    lines.erase(lines.begin() + (first - 1), lines.begin() + last);
    endings.erase(endings.begin() + (first - 1), endings.begin() + last);
  }
};

// The blocks of the section under heading `key`: [first, last) into `blocks`,
// and the index of the heading itself; nullopt when the key is missing.
struct Section {
  std::size_t heading = 0;
  std::size_t first = 0;
  std::size_t last = 0;
};

std::optional<Section> find_section(const std::vector<Block>& blocks, std::string_view key) {
  auto wanted = normalize_key(key);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (blocks[i].type != CMARK_NODE_HEADING || normalize_key(blocks[i].text) != wanted) {
      continue;
    }
    std::size_t j = i + 1;
    while (j < blocks.size() &&
           !(blocks[j].type == CMARK_NODE_HEADING && blocks[j].level <= blocks[i].level)) {
      ++j;
    }
    return Section{i, i + 1, j};
  }
  return std::nullopt;
}

std::string append_key(std::string_view doc, std::string_view key,
                       const std::vector<std::string>& body) {
  Lines l(doc);
  while (!l.lines.empty() && trimmed_empty(l.lines.back())) {
    l.erase(static_cast<int>(l.lines.size()), static_cast<int>(l.lines.size()));
  }
  std::vector<std::string> add{"", "## " + std::string(key), ""};
  add.insert(add.end(), body.begin(), body.end());
  l.insert(static_cast<int>(l.lines.size()) + 1, add);
  return l.join();
}

std::string strip_list_marker(std::string_view line) {
  static const RE2 k_marker(R"(\s*(?:[-*+]|\d+[.)])\s+(.*))");
  std::string rest;
  if (RE2::FullMatch(line, k_marker, &rest)) {
    return rest;
  }
  return std::string(line);
}

// The bullet an existing list uses (`-`, `*` or `+`), so an added entry joins it.
std::string list_marker(std::string_view line) {
  static const RE2 k_marker(R"(\s*([-*+])\s.*)");
  std::string marker;
  if (RE2::FullMatch(line, k_marker, &marker)) {
    return marker;
  }
  return "-";
}

}  // namespace

std::string escape_inline(std::string_view text) {
  std::string out;
  // Bidi controls and other invisible controls go first: what is committed
  // must read as it displays (U+202E would show "exe.txt" as "txt.exe").
  for (unsigned char c : collapse_whitespace(without_hidden_controls(text))) {
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '~':
      case '#':
      case '&':
      case '!':
        out += '\\';
        out += static_cast<char>(c);
        break;
      default:
        out += static_cast<char>(c);
    }
  }
  // At the start of a line these would open a list, a thematic break or a
  // setext heading underline.
  if (!out.empty() && (out[0] == '-' || out[0] == '+' || out[0] == '=')) {
    out.insert(out.begin(), '\\');
  }
  static const RE2 k_ordered(R"((\d{1,9})([.)]).*)");
  std::string digits, punct;
  if (RE2::FullMatch(out, k_ordered, &digits, &punct)) {
    out.insert(digits.size(), "\\");
  }
  return out.empty() ? "n/a" : out;
}

std::string safe_url(std::string_view url) {
  std::string lower;
  for (char c : url.substr(0, 8)) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
    return "";
  }
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : redact_url_credentials(url)) {
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '`' || c == '(' ||
        c == ')' || c == '|' || c == '\\') {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string link(std::string_view text, std::string_view url, std::string_view fallback) {
  auto safe = safe_url(url);
  if (safe.empty()) {
    return std::string(fallback);
  }
  return "[" + escape_inline(text) + "](" + safe + ")";
}

std::string set_key(std::string_view doc, std::string_view key, std::string_view value) {
  auto blocks = parse_blocks(doc);
  auto section = find_section(blocks, key);
  if (!section) {
    return append_key(doc, key, {std::string(value)});
  }
  Lines l(doc);
  for (std::size_t i = section->first; i < section->last; ++i) {
    if (blocks[i].type == CMARK_NODE_PARAGRAPH) {
      auto& b = blocks[i];
      l.erase(b.start_line, b.end_line);
      l.insert(b.start_line, {std::string(value)});
      return l.join();
    }
  }
  int after = blocks[section->heading].end_line;
  l.insert(after + 1, {"", std::string(value), ""});
  return l.join();
}

std::string add_list_entry(std::string_view doc, std::string_view key, TimePoint when,
                           std::string_view entry, Order order) {
  auto blocks = parse_blocks(doc);
  auto section = find_section(blocks, key);
  if (!section) {
    return append_key(doc, key, {"- " + std::string(entry)});
  }
  Lines l(doc);
  for (std::size_t i = section->first; i < section->last; ++i) {
    const auto& b = blocks[i];
    if (b.type == CMARK_NODE_PARAGRAPH && normalize_key(b.text) == "n/a") {
      l.erase(b.start_line, b.end_line);
      l.insert(b.start_line, {"- " + std::string(entry)});
      return l.join();
    }
    if (b.type != CMARK_NODE_LIST) {
      continue;
    }
    // cmark counts a blank line after an item as part of it; entries go
    // right after the item's last non-blank line.
    std::vector<int> ends = b.item_end_lines;
    for (std::size_t k = 0; k < ends.size(); ++k) {
      while (ends[k] > b.item_lines[k] && trimmed_empty(l.at(ends[k]))) {
        --ends[k];
      }
    }
    std::string marker = list_marker(l.at(b.item_lines.front()));
    std::string line = marker + " " + std::string(entry);
    // Newest first: before the first entry not newer than this one. Oldest
    // first: after the last entry not newer than this one.
    int insert_at = order == Order::newest_first ? ends.back() + 1 : b.item_lines.front();
    for (std::size_t k = 0; k < b.item_lines.size(); ++k) {
      auto t = parse_timeline_time(strip_list_marker(l.at(b.item_lines[k])));
      if (!t) {
        continue;
      }
      if (order == Order::newest_first && *t <= when) {
        insert_at = b.item_lines[k];
        break;
      }
      if (order == Order::oldest_first && *t <= when) {
        insert_at = ends[k] + 1;
      }
    }
    l.insert(insert_at, {line});
    return l.join();
  }
  int after = blocks[section->heading].end_line;
  bool next_is_blank = after >= static_cast<int>(l.lines.size()) || trimmed_empty(l.at(after + 1));
  std::vector<std::string> add{"", "- " + std::string(entry)};
  if (!next_is_blank) {
    add.push_back("");
  }
  l.insert(after + 1, add);
  return l.join();
}

namespace {

// An entry to add, with the time a reader of its line sees (seconds), which
// is what later entries are placed by.
struct Adding {
  const ListEntry* entry;
  std::optional<TimePoint> shown;
};

// Entries that go to the same place among the existing items, in the order
// adding them one at a time leaves them (each placed among those before it).
std::vector<std::string> in_adding_order(const std::vector<Adding>& slot, Order order,
                                         const std::string& marker) {
  std::vector<const Adding*> placed;
  for (const auto& a : slot) {
    auto at = order == Order::newest_first ? placed.end() : placed.begin();
    for (auto it = placed.begin(); it != placed.end(); ++it) {
      if (!(*it)->shown || *(*it)->shown > a.entry->when) {
        continue;
      }
      if (order == Order::newest_first) {
        at = it;
        break;
      }
      at = it + 1;
    }
    placed.insert(at, &a);
  }
  std::vector<std::string> lines;
  for (const auto* a : placed) {
    lines.push_back(marker + " " + a->entry->text);
  }
  return lines;
}

// The line before which each entry goes in list `b`: by the existing items'
// times, as add_list_entry() places one entry.
std::map<int, std::vector<Adding>> slots_in_list(const Lines& l, const Block& b,
                                                 const std::vector<Adding>& adding, Order order) {
  std::vector<int> ends = b.item_end_lines;
  std::vector<std::optional<TimePoint>> times;
  for (std::size_t k = 0; k < ends.size(); ++k) {
    while (ends[k] > b.item_lines[k] && trimmed_empty(l.at(ends[k]))) {
      --ends[k];
    }
    times.push_back(parse_timeline_time(strip_list_marker(l.at(b.item_lines[k]))));
  }
  std::map<int, std::vector<Adding>> slots;
  for (const auto& a : adding) {
    int insert_at = order == Order::newest_first ? ends.back() + 1 : b.item_lines.front();
    for (std::size_t k = 0; k < times.size(); ++k) {
      if (!times[k] || *times[k] > a.entry->when) {
        continue;
      }
      if (order == Order::newest_first) {
        insert_at = b.item_lines[k];
        break;
      }
      insert_at = ends[k] + 1;
    }
    slots[insert_at].push_back(a);
  }
  return slots;
}

}  // namespace

std::string add_list_entries(std::string_view doc, std::string_view key,
                             const std::vector<ListEntry>& entries, Order order) {
  if (entries.empty()) {
    return std::string(doc);
  }
  std::vector<Adding> adding;
  for (const auto& e : entries) {
    adding.push_back({&e, parse_timeline_time(e.text)});
  }
  auto blocks = parse_blocks(doc);
  auto section = find_section(blocks, key);
  if (!section) {
    return append_key(doc, key, in_adding_order(adding, order, "-"));
  }
  Lines l(doc);
  for (std::size_t i = section->first; i < section->last; ++i) {
    const auto& b = blocks[i];
    if (b.type == CMARK_NODE_PARAGRAPH && normalize_key(b.text) == "n/a") {
      l.erase(b.start_line, b.end_line);
      l.insert(b.start_line, in_adding_order(adding, order, "-"));
      return l.join();
    }
    if (b.type != CMARK_NODE_LIST) {
      continue;
    }
    const std::string marker = list_marker(l.at(b.item_lines.front()));
    auto slots = slots_in_list(l, b, adding, order);
    for (auto it = slots.rbegin(); it != slots.rend(); ++it) {  // bottom up: lines stay put
      l.insert(it->first, in_adding_order(it->second, order, marker));
    }
    return l.join();
  }
  int after = blocks[section->heading].end_line;
  bool next_is_blank = after >= static_cast<int>(l.lines.size()) || trimmed_empty(l.at(after + 1));
  std::vector<std::string> add{""};
  for (auto& line : in_adding_order(adding, order, "-")) {
    add.push_back(std::move(line));
  }
  if (!next_is_blank) {
    add.push_back("");
  }
  l.insert(after + 1, add);
  return l.join();
}

std::string set_list_item(std::string_view doc, std::string_view key, std::string_view label,
                          std::string_view value) {
  std::string line = std::string(label) + ": " + std::string(value);
  auto blocks = parse_blocks(doc);
  auto section = find_section(blocks, key);
  if (!section) {
    return append_key(doc, key, {"- " + line});
  }
  Lines l(doc);
  std::string wanted = normalize_key(label) + ":";
  for (std::size_t i = section->first; i < section->last; ++i) {
    const auto& b = blocks[i];
    if (b.type != CMARK_NODE_LIST) {
      continue;
    }
    std::string marker = list_marker(l.at(b.item_lines.front()));
    for (int item : b.item_lines) {
      std::string text = strip_list_marker(l.at(item));
      std::string lower;
      for (char c : text.substr(0, wanted.size())) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (lower == wanted) {
        l.erase(item, item);
        l.insert(item, {marker + " " + line});
        return l.join();
      }
    }
    int last = b.item_end_lines.back();
    while (last > b.item_lines.back() && trimmed_empty(l.at(last))) {
      --last;
    }
    l.insert(last + 1, {marker + " " + line});
    return l.join();
  }
  l.insert(blocks[section->heading].end_line + 1, {"", "- " + line});
  return l.join();
}

std::optional<std::string> key_text(std::string_view doc, std::string_view key) {
  auto blocks = parse_blocks(doc);
  auto section = find_section(blocks, key);
  if (!section) {
    return std::nullopt;
  }
  for (std::size_t i = section->first; i < section->last; ++i) {
    if (blocks[i].type == CMARK_NODE_PARAGRAPH) {
      auto text = blocks[i].text;
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.pop_back();
      }
      return text;
    }
  }
  return std::string{};
}

namespace {

// The nodes under the heading `key` until the next heading of the same or a
// higher level, as cmark parsed them. `visit` gets each top-level node.
template <typename Visit>
void for_each_in_section(std::string_view doc, std::string_view key, Visit visit) {
  NodePtr root = parse_document(doc);
  auto wanted = normalize_key(key);
  int level = 0;
  for (cmark_node* n = cmark_node_first_child(root.get()); n != nullptr; n = cmark_node_next(n)) {
    if (cmark_node_get_type(n) == CMARK_NODE_HEADING) {
      int l = cmark_node_get_heading_level(n);
      if (level > 0 && l <= level) {
        return;
      }
      if (level == 0 && normalize_key(node_text(n)) == wanted) {
        level = l;
      }
      continue;
    }
    if (level > 0) {
      visit(n);
    }
  }
}

std::string trim_copy(std::string s) {
  auto first = s.find_first_not_of(" \t");
  auto last = s.find_last_not_of(" \t");
  return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

// Cells of a `| a | b |` line that cmark did not parse as a table row.
std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::string t = trim_copy(line);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size()) {
      cell += t[++i];
    } else if (t[i] == '|') {
      cells.push_back(trim_copy(cell));
      cell.clear();
    } else {
      cell += t[i];
    }
  }
  cells.push_back(trim_copy(cell));
  if (!cells.empty() && cells.front().empty() && t.front() == '|') {
    cells.erase(cells.begin());
  }
  if (!cells.empty() && cells.back().empty() && t.back() == '|') {
    cells.pop_back();
  }
  return cells;
}

}  // namespace

std::vector<Table> tables(std::string_view doc, std::string_view key) {
  std::vector<Table> out;
  Lines lines(doc);
  for_each_in_section(doc, key, [&](cmark_node* n) {
    const char* type = cmark_node_get_type_string(n);
    if (std::string_view(type) == "table") {
      Table t;
      t.line = cmark_node_get_start_line(n);
      bool header = true;
      for (cmark_node* row = cmark_node_first_child(n); row != nullptr;
           row = cmark_node_next(row)) {
        TableRow r{cmark_node_get_start_line(row), {}};
        for (cmark_node* cell = cmark_node_first_child(row); cell != nullptr;
             cell = cmark_node_next(cell)) {
          r.cells.push_back(trim_copy(node_text(cell)));
        }
        if (header) {
          t.header = std::move(r.cells);
          header = false;
        } else {
          t.rows.push_back(std::move(r));
        }
      }
      out.push_back(std::move(t));
    } else if (cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH && !out.empty()) {
      // Rows split off from the table above by a blank line.
      Table t;
      t.line = cmark_node_get_start_line(n);
      for (int i = t.line; i <= cmark_node_get_end_line(n); ++i) {
        if (trim_copy(lines.at(i)).rfind('|', 0) == 0) {
          t.rows.push_back({i, split_row(lines.at(i))});
        }
      }
      if (!t.rows.empty()) {
        out.push_back(std::move(t));
      }
    }
  });
  return out;
}

std::vector<TableRow> list_items(std::string_view doc, std::string_view key) {
  std::vector<TableRow> out;
  for_each_in_section(doc, key, [&](cmark_node* n) {
    if (cmark_node_get_type(n) != CMARK_NODE_LIST) {
      return;
    }
    for (cmark_node* item = cmark_node_first_child(n); item != nullptr;
         item = cmark_node_next(item)) {
      out.push_back({cmark_node_get_start_line(item), {trim_copy(node_text(item))}});
    }
  });
  return out;
}

std::vector<std::string> list_item_sources(std::string_view doc, std::string_view key) {
  Lines lines(doc);
  std::vector<std::string> out;
  for (const auto& item : list_items(doc, key)) {
    out.push_back(strip_list_marker(lines.at(item.line)));
  }
  return out;
}

std::vector<std::string> headings(std::string_view doc) {
  std::vector<std::string> out;
  for (const auto& b : parse_blocks(doc)) {
    if (b.type == CMARK_NODE_HEADING) {
      out.push_back(b.text);
    }
  }
  return out;
}

std::vector<Heading> heading_lines(std::string_view doc) {
  std::vector<Heading> out;
  for (const auto& b : parse_blocks(doc)) {
    if (b.type == CMARK_NODE_HEADING) {
      out.push_back({b.level, b.start_line, b.text, false});
    } else if (!out.empty() && b.type != CMARK_NODE_HTML_BLOCK) {
      out.back().has_content = true;  // a comment alone is not a value
    }
  }
  return out;
}

namespace {

// Skipped by prose(): headings (the template's keys), what is quoted, code,
// a link's text or raw HTML.
bool quoted_or_code(cmark_node* n) {
  for (; n != nullptr; n = cmark_node_parent(n)) {
    auto t = cmark_node_get_type(n);
    if (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE || t == CMARK_NODE_CODE ||
        t == CMARK_NODE_CODE_BLOCK || t == CMARK_NODE_HTML_INLINE || t == CMARK_NODE_HTML_BLOCK ||
        t == CMARK_NODE_BLOCK_QUOTE || t == CMARK_NODE_HEADING) {
      return true;
    }
  }
  return false;
}

// The header text of the column `cell` is in, when it is a table cell.
std::string column_header_of(cmark_node* n) {
  for (; n != nullptr; n = cmark_node_parent(n)) {
    if (std::string_view(cmark_node_get_type_string(n)) != "table_cell") {
      continue;
    }
    int index = 0;
    for (cmark_node* c = cmark_node_previous(n); c != nullptr; c = cmark_node_previous(c)) {
      ++index;
    }
    cmark_node* table = cmark_node_parent(cmark_node_parent(n));
    cmark_node* header = cmark_node_first_child(table);
    cmark_node* cell = cmark_node_first_child(header);
    for (int i = 0; i < index && cell != nullptr; ++i) {
      cell = cmark_node_next(cell);
    }
    return cell != nullptr ? trim_copy(node_text(cell)) : "";
  }
  return "";
}

// The label of the list item `n` is in ("Operations" for "- Operations: Ana").
std::string list_label_of(cmark_node* n) {
  for (; n != nullptr; n = cmark_node_parent(n)) {
    if (cmark_node_get_type(n) == CMARK_NODE_ITEM) {
      auto text = node_text(n);
      auto colon = text.find(':');
      return colon == std::string::npos ? "" : trim_copy(text.substr(0, colon));
    }
  }
  return "";
}

}  // namespace

std::vector<TextRun> prose(std::string_view doc) {
  std::vector<TextRun> out;
  NodePtr root = parse_document(doc);
  std::string key;
  for (cmark_node* top = cmark_node_first_child(root.get()); top != nullptr;
       top = cmark_node_next(top)) {
    if (cmark_node_get_type(top) == CMARK_NODE_HEADING && cmark_node_get_heading_level(top) <= 2) {
      key = trim_copy(node_text(top));
    }
    cmark_iter* iter = cmark_iter_new(top);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
      cmark_node* n = cmark_iter_get_node(iter);
      if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(n) != CMARK_NODE_TEXT ||
          quoted_or_code(n)) {
        continue;
      }
      const char* lit = cmark_node_get_literal(n);
      TextRun run;
      run.line = cmark_node_get_start_line(n);
      run.column = cmark_node_get_start_column(n);
      if (run.line == 0) {  // no inline position: the enclosing block's
        for (cmark_node* p = n; p != nullptr && run.line == 0; p = cmark_node_parent(p)) {
          run.line = cmark_node_get_start_line(p);
          run.column = cmark_node_get_start_column(p);
        }
      }
      run.text = lit != nullptr ? lit : "";
      run.key = key;
      run.column_header = column_header_of(n);
      run.list_label = list_label_of(n);
      out.push_back(std::move(run));
    }
    cmark_iter_free(iter);
  }
  return out;
}

std::string to_html(std::string_view doc) {
  parse_document("");  // registers the extensions once
  std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(
      cmark_parser_new(CMARK_OPT_DEFAULT), &cmark_parser_free);
  for (const char* name : {"table", "strikethrough", "autolink", "tasklist"}) {
    if (auto* ext = cmark_find_syntax_extension(name)) {
      cmark_parser_attach_syntax_extension(parser.get(), ext);
    }
  }
  cmark_parser_feed(parser.get(), doc.data(), doc.size());
  NodePtr root(cmark_parser_finish(parser.get()), &cmark_node_free);
  char* html = cmark_render_html(root.get(), CMARK_OPT_DEFAULT,
                                 cmark_parser_get_syntax_extensions(parser.get()));
  std::string out = html != nullptr ? html : "";
  std::free(html);
  return out;
}

}  // namespace calloutd::markdown
