// calloutctl search: find what was done last time, in the callouts and
// postmortems of a repository (a working copy or a bare one).
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <ostream>

#include "daemon/base/timefmt.hpp"
#include "daemon/ctl/ctl.hpp"
#include "daemon/ctl/folders.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd::ctl {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// The labels of the callout's Alert labels table: every (label, value) pair.
std::vector<std::pair<std::string, std::string>> labels_of(const std::string& callout) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& table : markdown::tables(callout, keys::k_alert_labels)) {
    for (const auto& row : table.rows) {
      for (std::size_t i = 0; i < row.cells.size() && i < table.header.size(); ++i) {
        out.emplace_back(table.header[i], row.cells[i]);
      }
    }
  }
  return out;
}

}  // namespace

std::string search_usage() {
  return R"(Usage: calloutctl search [TEXT] [--technology SLUG] [--issue TEXT] [--label K=V]
                        [--since YYYY-MM-DD] [--repo DIR] [--branch NAME] [--format text|json]

Finds earlier callouts and their postmortems in the repository (default: the
current directory; a bare repository works too): TEXT anywhere in either
file (case-insensitive), the technology, the issue (part of the folder's
issue slug), an alert label (from Alert labels), opened on or after a date.
Results are grouped by technology and issue, recurring ones first, with a
count, newest first within a group.
)";
}

namespace {

// What to search for; empty fields match everything.
struct SearchQuery {
  std::string text;                       // lower case
  std::optional<std::string> technology;  // as a slug
  std::string issue;                      // as a slug
  std::string since;                      // YYYY-MM-DD
  std::string label_key;
  std::string label_value;
};

// The query the command line describes; nullopt (printed) when it is malformed.
std::optional<SearchQuery> search_query(const Args& args, Context& ctx) {
  if (args.positional.size() > 1) {
    ctx.err << "calloutctl search: one TEXT at most\n" << search_usage();
    return std::nullopt;
  }
  SearchQuery q;
  if (auto label = args.get("label")) {
    auto eq = label->find('=');
    if (eq == std::string::npos || eq == 0) {
      ctx.err << "calloutctl search: --label \"" << *label << "\" is not KEY=VALUE\n";
      return std::nullopt;
    }
    q.label_key = label->substr(0, eq);
    q.label_value = label->substr(eq + 1);
  }
  q.since = args.get("since").value_or("");
  if (!q.since.empty() && !parse_timeline_time(q.since + " 00:00")) {
    ctx.err << "calloutctl search: --since \"" << q.since << "\" is not a date (YYYY-MM-DD)\n";
    return std::nullopt;
  }
  q.text = lower(args.positional.empty() ? "" : args.positional.front());
  if (auto technology = args.get("technology")) {
    q.technology = technology_slug(*technology);
  }
  q.issue = kebab_slug(args.get("issue").value_or(""), "");
  return q;
}

bool matches(const Folder& f, const SearchQuery& q) {
  if ((q.technology && f.technology != *q.technology) ||
      (!q.issue.empty() && f.issue.find(q.issue) == std::string::npos) ||
      (!q.since.empty() && f.date < q.since) ||
      (!q.text.empty() && lower(f.callout).find(q.text) == std::string::npos &&
       lower(f.postmortem).find(q.text) == std::string::npos)) {
    return false;
  }
  if (q.label_key.empty()) {
    return true;
  }
  auto labels = labels_of(f.callout);
  return std::find(labels.begin(), labels.end(), std::pair{q.label_key, q.label_value}) !=
         labels.end();
}

using Groups = std::vector<std::pair<std::string, std::vector<Folder>>>;

// The matching folders grouped by technology/issue: recurring issues first,
// newest first within a group.
Groups matching_groups(std::vector<Folder> folders, const SearchQuery& q) {
  std::map<std::string, std::vector<Folder>> groups;  // technology/issue -> folders
  for (auto& f : folders) {
    if (matches(f, q)) {
      groups[f.technology + "/" + f.issue].push_back(std::move(f));
    }
  }
  Groups ordered(groups.begin(), groups.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  for (auto& [key, group] : ordered) {
    std::sort(group.begin(), group.end(),
              [](const Folder& a, const Folder& b) { return a.path > b.path; });
  }
  return ordered;
}

// A found callout as the JSON output lists it.
json found_callout(const Folder& f) {
  auto c = read_callout(f.callout, layout::callout_path(f.path));
  auto p = read_postmortem(f.postmortem, layout::postmortem_path(f.path));
  return {{"folder", f.path},
          {"date", f.date},
          {"severity", c.severity},
          {"status", c.status},
          {"postmortem", p.status},
          {"summary", markdown::key_text(f.callout, keys::k_summary).value_or("")},
          {"resolution", markdown::key_text(f.postmortem, keys::k_resolution).value_or("")}};
}

json found_groups(const Groups& groups) {
  json out = json::array();
  for (const auto& [key, folders] : groups) {
    json group{{"issue", key}, {"count", folders.size()}, {"callouts", json::array()}};
    for (const auto& f : folders) {
      group["callouts"].push_back(found_callout(f));
    }
    out.push_back(std::move(group));
  }
  return out;
}

void print_found(const json& groups, std::size_t total, std::ostream& out) {
  for (const auto& g : groups) {
    out << g["issue"].get<std::string>() << " (" << g["count"].get<std::size_t>()
        << (g["count"].get<std::size_t>() == 1 ? " callout" : " callouts") << ")\n";
    for (const auto& c : g["callouts"]) {
      out << "  " << c["folder"].get<std::string>() << "  " << c["severity"].get<std::string>()
          << " " << c["status"].get<std::string>() << ", postmortem "
          << c["postmortem"].get<std::string>() << "\n    " << c["summary"].get<std::string>()
          << "\n";
      auto resolution = c["resolution"].get<std::string>();
      if (!resolution.empty() && resolution != "n/a") {
        out << "    resolution: " << resolution << "\n";
      }
    }
  }
  out << total << (total == 1 ? " callout" : " callouts") << " in " << groups.size()
      << (groups.size() == 1 ? " issue" : " issues") << "\n";
}

}  // namespace

int search_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "search", search_usage(),
                           {"technology", "issue", "label", "since", "repo", "branch", "format"},
                           ctx, exit);
  if (!args) {
    return exit;
  }
  auto query = search_query(*args, ctx);
  if (!query) {
    return Exit::usage_error;
  }
  auto repo =
      open_repository(args->get("repo").value_or("."), args->get("branch").value_or("main"));
  if (!repo) {
    ctx.err << "calloutctl search: " << repo.error() << "\n";
    return Exit::unavailable;
  }
  auto all = folders_of(**repo);
  if (!all.ok()) {
    ctx.err << "calloutctl search: " << all.error() << "\n";
    return Exit::unavailable;
  }
  auto groups = matching_groups(*all, *query);
  std::size_t total = 0;
  for (const auto& [key, folders] : groups) {
    total += folders.size();
  }
  auto out = found_groups(groups);
  if (args->get("format").value_or("text") == "json") {
    ctx.out << json{{"groups", out}, {"callouts", total}}.dump(2) << "\n";
  } else {
    print_found(out, total, ctx.out);
  }
  return Exit::ok;
}

}  // namespace calloutd::ctl
