// calloutctl new, list and search: open a callout by hand, see what is open,
// and find what was done last time. `new` and `list` talk to the daemon when
// one runs; with --repo they read or write the callouts repository itself
// (a working copy or a bare repository, through libgit2).
#include <re2/re2.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "daemon/base/timefmt.hpp"
#include "daemon/ctl/ctl.hpp"
#include "daemon/engine/manual.hpp"
#include "daemon/git/repository.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd::ctl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The repository at `path`, opened without creating one.
Result<std::unique_ptr<GitRepository>> open_repository(const std::string& path,
                                                       const std::string& branch) {
  if (!fs::exists(fs::path(path) / ".git") && !fs::exists(fs::path(path) / "HEAD")) {
    return Error{"\"" + path + "\" is not a git repository"};
  }
  try {
    return std::make_unique<GitRepository>(
        GitRepository::Options{path, branch, "calloutctl", "calloutctl@localhost"});
  } catch (const std::exception& e) {
    return Error{e.what()};
  }
}

// One write-up folder of the repository, as read from its branch.
struct Folder {
  std::string path;  // technology/issue-date[-n]
  std::string technology;
  std::string issue;  // the folder's issue slug
  std::string date;
  std::string callout;
  std::string postmortem;
};

std::vector<Folder> folders_of(Repository& repo) {
  std::vector<Folder> out;
  auto head = repo.head();
  if (head.empty()) {
    return out;
  }
  const RE2 k_folder(R"(([a-z0-9-]+?)-(\d{4}-\d{2}-\d{2})(?:-\d+)?)");
  for (const auto& tech : repo.list(head, "")) {
    if (tech.rfind('.', 0) == 0) {
      continue;
    }
    for (const auto& name : repo.list(head, tech)) {
      Folder f;
      f.path = tech + "/" + name;
      auto callout = repo.read(head, f.path + "/callout.md");
      if (!callout || !RE2::FullMatch(name, k_folder, &f.issue, &f.date)) {
        continue;
      }
      f.technology = tech;
      f.callout = *callout;
      f.postmortem = repo.read(head, f.path + "/postmortem.md").value_or("");
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::string age(TimePoint since) {
  auto s =
      std::chrono::duration_cast<std::chrono::minutes>(std::chrono::system_clock::now() - since)
          .count();
  if (s < 0) {
    return "0m";
  }
  if (s < 60) {
    return std::to_string(s) + "m";
  }
  if (s < 48 * 60) {
    return std::to_string(s / 60) + "h" + std::to_string(s % 60) + "m";
  }
  return std::to_string(s / 1440) + "d";
}

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// The labels of the callout's Alert labels table: every (label, value) pair.
std::vector<std::pair<std::string, std::string>> labels_of(const std::string& callout) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& table : markdown::tables(callout, "Alert labels")) {
    for (const auto& row : table.rows) {
      for (std::size_t i = 0; i < row.cells.size() && i < table.header.size(); ++i) {
        out.emplace_back(table.header[i], row.cells[i]);
      }
    }
  }
  return out;
}

}  // namespace

std::string new_usage() {
  return R"(Usage: calloutctl new --technology SLUG --issue TEXT --severity MPI|HPI --summary TEXT
                     [--repo DIR [--branch NAME]]

Opens a callout by hand: a customer report, a slow burn no alert caught
(more than 30 minutes of downtime starts an incident). Through the daemon's
API (POST /api/v1/incidents) when it answers at --url, so that the daemon
tracks it (timeline, roles, the on-call rota); with --repo and no daemon
answering, straight into the repository (one commit of callout.md and
postmortem.md; the daemon does not track such a callout).
)";
}

namespace {

// The incident the command line describes; nullopt (printed) when an option
// is missing or the severity is not known.
std::optional<ManualIncident> manual_incident(const Args& args, Context& ctx) {
  for (const char* required : {"technology", "issue", "severity", "summary"}) {
    if (!args.get(required)) {
      ctx.err << "calloutctl new: --" << required << " is required\n" << new_usage();
      return std::nullopt;
    }
  }
  ManualIncident m{*args.get("technology"), *args.get("issue"), *args.get("severity"),
                   *args.get("summary"), std::chrono::system_clock::now()};
  if (m.severity != "MPI" && m.severity != "HPI") {
    ctx.err << "calloutctl new: --severity \"" << m.severity << "\" is not MPI or HPI\n";
    return std::nullopt;
  }
  return m;
}

// POST /api/v1/incidents: the daemon opens the callout and tracks it.
int open_through_daemon(const ManualIncident& m, Context& ctx) {
  auto answer = api_post(ctx, "/api/v1/incidents",
                         json{{"technology", m.technology},
                              {"issue", m.issue},
                              {"severity", m.severity},
                              {"summary", m.summary}});
  if (answer.status != 202) {
    return report_failure(ctx, "new", answer);
  }
  ctx.out << "accepted: incident " << answer.body.value("id", "?")
          << " (the daemon commits the callout and tracks it)\n";
  return Exit::ok;
}

// The first free folder for `m` under its technology at `head`:
// <technology>/<issue>-<date>, then -2, -3...
std::string free_folder(Repository& repo, const std::string& head, const ManualIncident& m) {
  auto taken = repo.list(head, m.technology);
  std::string base = kebab_slug(m.issue, "incident") + "-" + format_date(m.at);
  std::string name = base;
  for (int n = 2; std::find(taken.begin(), taken.end(), name) != taken.end(); ++n) {
    name = base + "-" + std::to_string(n);
  }
  return m.technology + "/" + name;
}

// The commit that opens `m` in `folder`: callout.md and postmortem.md.
CommitRequest opening_commit(const std::string& head, const std::string& folder,
                             const ManualIncident& m, const std::string& id) {
  auto templates = Templates::embedded();
  auto view = manual_view(m, id);
  return CommitRequest{
      head,
      {{folder + "/callout.md", templates.render_callout(view)},
       {folder + "/postmortem.md", templates.render_postmortem(view)}},
      folder + ": opened by hand (" + m.severity + ")\n\nCalloutd-Incident: " + id + "\n"};
}

// No daemon: one commit straight into the repository at --repo.
int commit_to_repository(ManualIncident m, const Args& args, Context& ctx) {
  auto repo = open_repository(*args.get("repo"), args.get("branch").value_or("main"));
  if (!repo) {
    ctx.err << "calloutctl new: " << repo.error() << "\n";
    return Exit::unavailable;
  }
  m.technology = technology_slug(m.technology);
  m.at = *parse_rfc3339(format_rfc3339_millis(m.at));
  auto id = manual_incident_id(m);
  auto head = (*repo)->head();
  auto folder = free_folder(**repo, head, m);
  auto committed = (*repo)->commit(opening_commit(head, folder, m, id));
  if (committed.status != CommitStatus::committed) {
    ctx.err << "calloutctl new: cannot commit: "
            << (committed.error.empty() ? "the branch moved; try again" : committed.error) << "\n";
    return Exit::unavailable;
  }
  ctx.out << "committed " << folder << " (incident " << id << ", commit "
          << committed.id.substr(0, 12) << "); no daemon answered at " << ctx.url
          << ", so none tracks it\n";
  return Exit::ok;
}

}  // namespace

int new_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args =
      command_args(argv, "new", new_usage(),
                   {"technology", "issue", "severity", "summary", "repo", "branch"}, ctx, exit);
  if (!args) {
    return exit;
  }
  auto m = manual_incident(*args, ctx);
  if (!m) {
    return Exit::usage_error;
  }
  auto health = api_get(ctx, "/-/healthy");
  if (health.status == 200 || !args->has("repo")) {
    return open_through_daemon(*m, ctx);
  }
  return commit_to_repository(std::move(*m), *args, ctx);
}

std::string list_usage() {
  return R"(Usage: calloutctl list [--repo DIR [--branch NAME]] [--format text|json]

Open incidents: id, severity, age, folder, who holds Operations and
Secondary, and when the Next Incident Lead is due (OVERDUE once passed).
From the daemon at --url; with --repo, from the repository's callouts whose
Status is active (the handover time is then not known).
)";
}

namespace {

// One open incident as `list` shows it, from a folder whose callout is active;
// nullopt for any other folder.
std::optional<json> open_incident(const Folder& f) {
  auto c = read_callout(f.callout, f.path + "/callout.md");
  if (c.status != "active") {
    return std::nullopt;
  }
  json roles = json::object();
  for (const auto& [role, holder] : c.roles) {
    if (!holder.empty()) {
      roles[role] = holder;
    }
  }
  return json{{"id", markdown::key_text(f.callout, "Incident Number").value_or("")},
              {"folder", f.path},
              {"severity", c.severity},
              {"opened_at", f.date + "T00:00:00.000Z"},
              {"roles", roles}};
}

// The open incidents of the repository at `path`; nullopt (printed) when it
// cannot be opened.
std::optional<json> open_incidents_in(const std::string& path, const std::string& branch,
                                      Context& ctx) {
  auto repo = open_repository(path, branch);
  if (!repo) {
    ctx.err << "calloutctl list: " << repo.error() << "\n";
    return std::nullopt;
  }
  json incidents = json::array();
  for (const auto& f : folders_of(**repo)) {
    if (auto incident = open_incident(f)) {
      incidents.push_back(std::move(*incident));
    }
  }
  return incidents;
}

const char* const k_list_row = "%-16s %-4s %-7s %-48s %-20s %-20s %s\n";

// One line of the table for an incident of the API's list.
std::string incident_row(const json& i) {
  auto opened = parse_rfc3339(i.value("opened_at", ""));
  auto role = [&](const char* name) {
    return i.contains("roles") && i["roles"].contains(name) ? i["roles"][name].get<std::string>()
                                                            : std::string("n/a");
  };
  std::string due = "n/a";
  if (auto t = parse_rfc3339(i.value("handover_due", ""))) {
    due = format_utc(*t) + (*t < std::chrono::system_clock::now() ? " OVERDUE" : "");
  }
  char line[512];
  std::snprintf(line, sizeof line, k_list_row, i.value("id", "").c_str(),
                i.value("severity", "").c_str(), opened ? age(*opened).c_str() : "?",
                i.value("folder", "").c_str(), role("Operations").c_str(),
                role("Secondary").c_str(), due.c_str());
  return line;
}

void print_incidents(const json& incidents, std::ostream& out) {
  if (incidents.empty()) {
    out << "no open incidents\n";
    return;
  }
  char line[512];
  std::snprintf(line, sizeof line, k_list_row, "INCIDENT", "SEV", "AGE", "FOLDER", "OPERATIONS",
                "SECONDARY", "HANDOVER DUE");
  out << line;
  for (const auto& i : incidents) {
    out << incident_row(i);
  }
}

}  // namespace

int list_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "list", list_usage(), {"repo", "branch", "format"}, ctx, exit);
  if (!args) {
    return exit;
  }
  json incidents = json::array();
  if (auto repo_path = args->get("repo")) {
    auto found = open_incidents_in(*repo_path, args->get("branch").value_or("main"), ctx);
    if (!found) {
      return Exit::unavailable;
    }
    incidents = std::move(*found);
  } else {
    auto answer = api_get(ctx, "/api/v1/incidents");
    if (answer.status != 200) {
      return report_failure(ctx, "list", answer);
    }
    incidents = answer.body["incidents"];
  }
  if (args->get("format").value_or("text") == "json") {
    ctx.out << json{{"incidents", incidents}}.dump(2) << "\n";
  } else {
    print_incidents(incidents, ctx.out);
  }
  return Exit::ok;
}

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
  auto c = read_callout(f.callout, f.path + "/callout.md");
  auto p = read_postmortem(f.postmortem, f.path + "/postmortem.md");
  return {{"folder", f.path},
          {"date", f.date},
          {"severity", c.severity},
          {"status", c.status},
          {"postmortem", p.status},
          {"summary", markdown::key_text(f.callout, "Summary").value_or("")},
          {"resolution", markdown::key_text(f.postmortem, "Resolution").value_or("")}};
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
  auto groups = matching_groups(folders_of(**repo), *query);
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
