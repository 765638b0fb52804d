// calloutctl new and list: open a callout by hand and see what is open. Both
// talk to the daemon when one runs; with --repo they write or read the
// callouts repository itself (a working copy or a bare repository, through
// libgit2).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <ostream>
#include <set>

#include "daemon/base/timefmt.hpp"
#include "daemon/ctl/ctl.hpp"
#include "daemon/ctl/folders.hpp"
#include "daemon/engine/manual.hpp"
#include "daemon/git/repository.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd::ctl {

namespace fs = std::filesystem;
using nlohmann::json;

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

Result<std::vector<Folder>> folders_of(Repository& repo) {
  std::vector<Folder> out;
  auto head = repo.head();
  if (head.empty()) {
    return out;
  }
  for (const auto& tech : repo.list(head, "")) {
    if (!layout::can_be_technology(tech)) {
      continue;
    }
    for (const auto& name : repo.list(head, tech)) {
      // Loosely, as the daemon's scanner reads them: folders made by hand count.
      auto parsed = layout::parse_folder_loosely(name);
      Folder f;
      f.path = tech + "/" + name;
      if (!parsed) {
        continue;
      }
      auto callout = repo.read(head, layout::callout_path(f.path));
      auto postmortem = repo.read(head, layout::postmortem_path(f.path));
      if (!callout.ok() || !postmortem.ok()) {
        return Error{!callout.ok() ? callout.error() : postmortem.error()};
      }
      if (!*callout) {
        continue;
      }
      f.issue = parsed->issue;
      f.date = parsed->date;
      f.technology = tech;
      f.callout = std::move(**callout);
      f.postmortem = postmortem->value_or("");
      out.push_back(std::move(f));
    }
  }
  return out;
}

namespace {

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

}  // namespace

std::string new_usage() {
  return R"(Usage: calloutctl new --technology SLUG --issue TEXT --severity MPI|HPI --summary TEXT
                     [--repo DIR [--branch NAME]]

Opens a callout by hand: a customer report, a slow burn no alert caught
(more than 30 minutes of downtime starts an incident). Without --repo,
through the daemon's API (POST /api/v1/incidents) at --url, so that the
daemon tracks it (timeline, roles, the on-call rota). With --repo, straight
into that repository, even when a daemon answers at --url (one commit of
callout.md and postmortem.md; no daemon tracks such a callout).
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

// The folder for `m` at `head`, chosen as the daemon chooses (see
// layout::allocate_folder): the first free name, around any symlink,
// submodule or file committed where a folder or a write-up goes.
layout::Allocation free_folder(Repository& repo, const std::string& head, const ManualIncident& m) {
  auto unsafe = [&](const std::string& path, PathKind kind) -> std::optional<std::string> {
    return head.empty() ? std::nullopt : repo.unsafe_prefix(head, path, kind);
  };
  layout::Ground ground{[&](const std::string& dir) {
                          auto names =
                              head.empty() ? std::vector<std::string>{} : repo.list(head, dir);
                          return std::set<std::string>(names.begin(), names.end());
                        },
                        [&](const std::string& dir) { return unsafe(dir, PathKind::folder); },
                        [&](const std::string& path) { return unsafe(path, PathKind::file); }};
  return layout::allocate_folder(m.technology, kebab_slug(m.issue, "incident"), format_date(m.at),
                                 ground);
}

// The commit that opens `m` in `folder`: callout.md and postmortem.md.
CommitRequest opening_commit(const std::string& head, const std::string& folder,
                             const ManualIncident& m, const std::string& id) {
  auto templates = Templates::embedded();
  auto view = manual_view(m, id);
  return CommitRequest{
      head,
      {{layout::callout_path(folder), templates.render_callout(view)},
       {layout::postmortem_path(folder), templates.render_postmortem(view)}},
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
  auto chosen = free_folder(**repo, head, m);
  for (const auto& path : chosen.unsafe_paths) {
    ctx.err << "calloutctl new: " << path
            << " is a symlink, a submodule or a file in the repository; not writing through it\n";
  }
  const auto& folder = chosen.folder;
  auto committed = (*repo)->commit(opening_commit(head, folder, m, id));
  if (committed.status != CommitStatus::committed) {
    ctx.err << "calloutctl new: cannot commit: "
            << (committed.error.empty() ? "the branch moved; try again" : committed.error) << "\n";
    return Exit::unavailable;
  }
  ctx.out << "committed " << folder << " (incident " << id << ", commit "
          << committed.id.substr(0, 12)
          << "); written straight into the repository, so no daemon tracks it\n";
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
  if (args->has("repo")) {
    // --repo names where to write: it wins over a daemon answering at --url.
    return commit_to_repository(std::move(*m), *args, ctx);
  }
  return open_through_daemon(*m, ctx);
}

std::string list_usage() {
  return R"(Usage: calloutctl list [--repo DIR [--branch NAME]] [--format text|json]

Open incidents: id, severity, age, folder, who holds Operations and
Secondary, and when the Next Incident Lead is due (OVERDUE once passed);
under them, the groups whose events the daemon holds until a problem of
their own is repaired (HELD on an incident's line). From the daemon at --url; with --repo, from the repository's callouts whose
Status is active, aged from their oldest timeline entry (the handover time
is then not known).
)";
}

namespace {

// When the callout opened: its oldest timeline entry (the opening line the
// daemon or `new` writes first), else midnight of the folder's date.
TimePoint opened_at(const Folder& f) {
  std::optional<TimePoint> oldest;
  for (const auto& item : markdown::list_items(f.callout, keys::k_incident_timeline)) {
    auto t = parse_timeline_time(item.cells.front());
    if (t && (!oldest || *t < *oldest)) {
      oldest = t;
    }
  }
  return oldest.value_or(parse_rfc3339(f.date + "T00:00:00Z").value_or(TimePoint{}));
}

// One open incident as `list` shows it, from a folder whose callout is active;
// nullopt for any other folder.
std::optional<json> open_incident(const Folder& f) {
  auto c = read_callout(f.callout, layout::callout_path(f.path));
  if (c.status != "active") {
    return std::nullopt;
  }
  json roles = json::object();
  for (const auto& [role, holder] : c.roles) {
    if (!holder.empty()) {
      roles[role] = holder;
    }
  }
  return json{{"id", markdown::key_text(f.callout, keys::k_incident_number).value_or("")},
              {"folder", f.path},
              {"severity", c.severity},
              {"opened_at", format_rfc3339_millis(opened_at(f))},
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
  auto folders = folders_of(**repo);
  if (!folders.ok()) {
    ctx.err << "calloutctl list: " << folders.error() << "\n";
    return std::nullopt;
  }
  json incidents = json::array();
  for (const auto& f : *folders) {
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
  if (i.contains("held")) {
    due += " HELD (" + i["held"].value("reason", "") + ")";
  }
  char line[512];
  std::snprintf(line, sizeof line, k_list_row, i.value("id", "").c_str(),
                i.value("severity", "").c_str(), opened ? age(*opened).c_str() : "?",
                i.value("folder", "").c_str(), role("Operations").c_str(),
                role("Secondary").c_str(), due.c_str());
  return line;
}

// The groups whose events the daemon holds for a problem of their own (the
// API's "held"): what to repair, under the table.
void print_held(const json& held, std::ostream& out) {
  if (held.empty()) {
    return;
  }
  out << "\nheld: events of " << held.size()
      << " group(s) wait until their problem is repaired (other groups are committed):\n";
  for (const auto& g : held) {
    out << "  group " << g.value("group", "") << " (" << g.value("reason", "") << ", "
        << g.value("events", 0) << " events since " << g.value("since", "") << ")";
    if (!g.value("incident", "").empty()) {
      out << " incident " << g.value("incident", "") << " " << g.value("folder", "");
    }
    out << ": " << g.value("error", "") << "\n";
  }
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
  json held = json::array();  // only the daemon knows what it holds
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
    held = answer.body.value("held", json::array());
  }
  if (args->get("format").value_or("text") == "json") {
    json out{{"incidents", incidents}};
    if (!args->get("repo")) {
      out["held"] = held;
    }
    ctx.out << out.dump(2) << "\n";
  } else {
    print_incidents(incidents, ctx.out);
    print_held(held, ctx.out);
  }
  return Exit::ok;
}

}  // namespace calloutd::ctl
