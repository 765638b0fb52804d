#include "daemon/writeup/repo_index.hpp"

#include <algorithm>
#include <vector>

#include "daemon/base/timefmt.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd {

namespace {

constexpr const char* k_begin =
    "<!-- calloutd:index begin (written by calloutd; edits between these markers are replaced, "
    "edit anywhere else) -->";
constexpr const char* k_end = "<!-- calloutd:index end -->";
constexpr std::size_t k_recent_per_technology = 10;
constexpr std::size_t k_max_rows = 100;  // per table: a storm must not make a megabyte README

std::string link_to(const GroupState& s, const std::string& file) {
  return "[" + markdown::escape_inline(s.folder) + "](" + s.folder + "/" + file + ")";
}

// The states with a folder, newest first.
std::vector<const GroupState*> newest_first(const std::map<std::string, GroupState>& states) {
  std::vector<const GroupState*> all;
  for (const auto& [id, s] : states) {
    if (!s.folder.empty()) {
      all.push_back(&s);
    }
  }
  std::sort(all.begin(), all.end(), [](const GroupState* a, const GroupState* b) {
    return a->opened_at != b->opened_at ? a->opened_at > b->opened_at : a->folder < b->folder;
  });
  return all;
}

}  // namespace

std::set<std::string> index_kept(const std::map<std::string, GroupState>& states) {
  std::set<std::string> kept;
  for (const auto& [id, s] : states) {
    if (!s.resolved || postmortem_pending(s.resolved, s.postmortem_status)) {
      kept.insert(id);
    }
  }
  return kept;
}

std::string index_section(const std::map<std::string, GroupState>& states) {
  auto all = newest_first(states);
  std::string open = "| Callout | Severity | Opened |\n| --- | --- | --- |\n";
  std::string pending = "| Postmortem | Status | Resolved |\n| --- | --- | --- |\n";
  std::size_t open_count = 0, pending_count = 0;
  std::map<std::string, std::vector<const GroupState*>> by_technology;
  for (const GroupState* s : all) {
    if (!s->resolved) {
      if (open_count++ < k_max_rows) {
        open += "| " + link_to(*s, std::string(layout::k_callout_file)) + " | " +
                severity_name(s->severity) + " | " + format_utc(s->opened_at) + " |\n";
      }
    } else if (postmortem_pending(s->resolved, s->postmortem_status) &&
               pending_count++ < k_max_rows) {
      pending += "| " + link_to(*s, std::string(layout::k_postmortem_file)) + " | " +
                 markdown::escape_inline(s->postmortem_status) + " | " +
                 format_utc(s->resolved_at) + " |\n";
    }
    auto& recent = by_technology[s->technology];
    if (recent.size() < k_recent_per_technology) {
      recent.push_back(s);
    }
  }
  auto more = [](std::size_t n) {
    return n > k_max_rows
               ? "\nAnd " + std::to_string(n - k_max_rows) + " more (`calloutctl list`).\n"
               : std::string();
  };
  std::string out = std::string(k_begin) + "\n\n## Open incidents\n\n" +
                    (open_count > 0 ? open + more(open_count) : "None.\n") +
                    "\n## Postmortems pending\n\n"
                    "Resolved incidents whose postmortem is not yet published.\n\n" +
                    (pending_count > 0 ? pending + more(pending_count) : "None.\n") +
                    "\n## Recent callouts by technology\n";
  for (const auto& [technology, recent] : by_technology) {
    out += "\n### " + markdown::escape_inline(technology) + "\n\n";
    for (const GroupState* s : recent) {
      out += "- " + link_to(*s, std::string(layout::k_callout_file)) + " (" +
             severity_name(s->severity) + ", " + (s->resolved ? "resolved" : "active") + ")\n";
    }
  }
  if (by_technology.empty()) {
    out += "\nNone yet.\n";
  }
  return out + "\n" + k_end + "\n";
}

std::string with_index(const std::optional<std::string>& readme, const std::string& section) {
  if (!readme) {
    return "# Callouts\n\nCallouts and postmortems, one folder per incident "
           "(`<technology>/<issue>-<date>/`).\n\n" +
           section;
  }
  auto begin = readme->find(k_begin);
  auto end = begin == std::string::npos ? std::string::npos : readme->find(k_end, begin);
  if (end == std::string::npos) {
    std::string out = *readme;
    if (!out.empty() && out.back() != '\n') {
      out += '\n';
    }
    return out + "\n" + section;
  }
  end += std::string(k_end).size();
  if (end < readme->size() && (*readme)[end] == '\n') {
    ++end;
  }
  return readme->substr(0, begin) + section + readme->substr(end);
}

}  // namespace calloutd
