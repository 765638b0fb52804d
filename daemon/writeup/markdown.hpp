// Reading and editing the markdown that engineers also edit. cmark-gfm (with
// GitHub's table extension) locates the sections exactly as GitHub renders
// them; edits then change only the lines concerned, so every other byte an
// engineer wrote stays as it was.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/timefmt.hpp"

namespace calloutd::markdown {

// Text made safe for a paragraph, a list item or a table cell: one line
// (tabs and line ends become spaces), no control or bidi characters (see
// without_hidden_controls), markdown and HTML syntax escaped (so a label value
// cannot start a heading, close a table cell or inject HTML). Every received
// text the daemon writes to markdown passes through here.
std::string escape_inline(std::string_view text);

// An http(s) URL made safe as a link destination, or "" when `url` is not one.
// Credentials in it are redacted (redact_url_credentials).
std::string safe_url(std::string_view url);

// `[text](url)`, or `fallback` when the URL is not a usable http(s) URL.
std::string link(std::string_view text, std::string_view url, std::string_view fallback = "n/a");

enum class Order { newest_first, oldest_first };

// Replaces the first paragraph under the heading `key` with `value` (already
// escaped). A key an engineer deleted is put back at the end of the file, so
// the value is never lost.
std::string set_key(std::string_view doc, std::string_view key, std::string_view value);

// Adds `- <entry>` to the first list under the heading `key`, placed by the time
// the entry starts with (`entry` is a complete timeline line, already escaped).
// Entries whose time cannot be read are stepped over; an `n/a` placeholder is
// replaced. A missing key is recreated at the end of the file.
std::string add_list_entry(std::string_view doc, std::string_view key, TimePoint when,
                           std::string_view entry, Order order);

// A timeline entry to add: its time, and the complete line (escaped).
struct ListEntry {
  TimePoint when;
  std::string text;
};

// add_list_entry() for each of `entries` in turn, with the same result, in
// one pass over the document: a group's thousand alerts resolving cost what
// they add, not a thousand parses of the callout.
std::string add_list_entries(std::string_view doc, std::string_view key,
                             const std::vector<ListEntry>& entries, Order order);

// Sets the item `<label>: <value>` in the first list under the heading `key`
// (the item whose text starts with `<label>:`, case-insensitive), adding the
// item when it is missing and the key when it was deleted. `value` is escaped
// by the caller.
std::string set_list_item(std::string_view doc, std::string_view key, std::string_view label,
                          std::string_view value);

// The text of the first paragraph under `key`, trimmed; nullopt when absent.
std::optional<std::string> key_text(std::string_view doc, std::string_view key);

// A GFM table (or rows of one split off by a blank line) under a key.
struct TableRow {
  int line = 0;  // 1-based source line
  std::vector<std::string> cells;
};
struct Table {
  int line = 0;
  std::vector<std::string> header;  // empty for rows split off from a table above
  std::vector<TableRow> rows;
};

// The tables under the heading `key` (and its subheadings), in order, with the
// text of each cell as GitHub shows it (a link's text, code as written).
// Lines that look like table rows but follow a blank line after a table (a
// table split in two) come back as a Table without a header.
std::vector<Table> tables(std::string_view doc, std::string_view key);

// The first source line of each list item under `key`, without its bullet,
// exactly as written (escapes included).
std::vector<std::string> list_item_sources(std::string_view doc, std::string_view key);

// The list items under `key` (and its subheadings) as plain text, with lines.
std::vector<TableRow> list_items(std::string_view doc, std::string_view key);

// The headings of `doc` in order, as GitHub renders them (used to check templates).
std::vector<std::string> headings(std::string_view doc);

// `doc` as HTML, the way GitHub renders it (tables, task lists, strikethrough,
// autolinks); raw HTML in the markdown is not passed through.
std::string to_html(std::string_view doc);

// A heading with its line and whether any content follows it before the next
// heading (for the linter: an empty key, where the template has a value).
struct Heading {
  int level = 0;
  int line = 0;
  std::string text;
  bool has_content = false;
};
std::vector<Heading> heading_lines(std::string_view doc);

// A run of prose as GitHub renders it: the text nodes outside headings, code,
// links, HTML and block quotes, for checks of the wording.
struct TextRun {
  int line = 0;  // 1-based source position of the run's first character
  int column = 0;
  std::string text;
  std::string key;            // the level-2 heading above ("" before the first)
  std::string column_header;  // in a table: the header of the cell's column
  std::string list_label;     // in a list item: the text before its first ':'
};
std::vector<TextRun> prose(std::string_view doc);

}  // namespace calloutd::markdown
