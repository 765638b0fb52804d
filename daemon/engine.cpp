#include "daemon/engine.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "daemon/alert_text.hpp"
#include "daemon/duration.hpp"
#include "daemon/hash.hpp"
#include "daemon/log.hpp"
#include "daemon/markdown.hpp"
#include "daemon/slug.hpp"

namespace calloutd {
namespace {

constexpr int k_max_attempts = 8;
constexpr const char* k_timeline_key = "Incident timeline";

TimePoint or_now(TimePoint t, TimePoint now) {
  return t == TimePoint{} ? now : t;
}

bool changes_files(Outcome o) {
  return o == Outcome::opened || o == Outcome::reopened || o == Outcome::updated;
}

}  // namespace

std::string outcome_name(Outcome o) {
  switch (o) {
    case Outcome::opened:
      return "opened";
    case Outcome::reopened:
      return "reopened";
    case Outcome::updated:
      return "updated";
    case Outcome::unchanged:
      return "unchanged";
    case Outcome::ignored:
      return "ignored";
    case Outcome::failed:
      return "failed";
  }
  return "failed";
}

// The repository as one batch sees it: the head commit, plus the files and
// group states written by the batch's earlier events.
class Engine::Overlay {
 public:
  Overlay(Repository& repository, std::string head)
      : m_repository(repository), m_head(std::move(head)) {}

  const std::string& head() const { return m_head; }
  std::optional<std::string> read(const std::string& path) const {
    auto it = m_files.find(path);
    return it != m_files.end() ? std::optional(it->second) : m_repository.read(m_head, path);
  }
  std::vector<std::string> list(const std::string& dir) const {
    auto names = m_repository.list(m_head, dir);
    std::set<std::string> all(names.begin(), names.end());
    for (const auto& [path, content] : m_files) {
      if (path.rfind(dir + "/", 0) == 0) {
        auto rest = path.substr(dir.size() + 1);
        all.insert(rest.substr(0, rest.find('/')));
      }
    }
    return {all.begin(), all.end()};
  }
  void write(const std::string& path, std::string content) { m_files[path] = std::move(content); }
  std::vector<FileWrite> files() const {
    std::vector<FileWrite> out;
    for (const auto& [path, content] : m_files) {
      out.push_back({path, content});
    }
    return out;
  }

  std::map<std::string, GroupState> states;  // by group id, as this batch leaves them
  std::vector<std::string> changes;          // one line per change, for the commit message

 private:
  Repository& m_repository;
  std::string m_head;
  std::map<std::string, std::string> m_files;
};

struct Engine::Plan {
  GroupState state;
  Outcome outcome = Outcome::unchanged;
  const Route* route = nullptr;
  std::vector<const Alert*> opening;  // firing alerts that open or reopen the callout
  std::optional<std::string> status;
  std::vector<std::pair<TimePoint, std::string>> entries;
};

Engine::Engine(const Config& config, Repository& repository, const Templates& templates)
    : m_config(config), m_repository(repository), m_templates(templates) {}

void Engine::load() {
  auto head = m_repository.head();
  for (const auto& name : m_repository.list(head, k_state_dir)) {
    auto text = m_repository.read(head, std::string(k_state_dir) + "/" + name);
    auto state = text ? parse_state(*text) : std::nullopt;
    if (!state) {
      log::warn("unreadable group state in the repository", {{"file", name}});
      continue;
    }
    m_states[state->group_id] = std::move(*state);
  }
  log::info("loaded incident state", {{"groups", std::to_string(m_states.size())}});
}

std::optional<GroupState> Engine::state_for(const std::string& id, const Overlay& view) {
  if (auto it = view.states.find(id); it != view.states.end()) {
    return it->second;
  }
  if (auto it = m_states.find(id); it != m_states.end()) {
    return it->second;
  }
  auto text = view.read(state_path(id));
  auto state = text ? parse_state(*text) : std::nullopt;
  if (state) {
    m_states[id] = *state;
  }
  return state;
}

ApplyResult Engine::apply(const Event& event) {
  return apply_batch({event}).front();
}

std::vector<ApplyResult> Engine::apply_batch(const std::vector<Event>& events) {
  for (int attempt = 0; attempt < k_max_attempts; ++attempt) {
    Overlay view(m_repository, m_repository.head());
    std::vector<ApplyResult> results;
    for (const auto& event : events) {
      results.push_back(apply_to(event, view));
    }
    if (view.changes.empty()) {
      return results;
    }
    std::string message = view.changes.size() == 1
                              ? view.changes.front()
                              : std::to_string(view.changes.size()) + " callout changes\n";
    if (view.changes.size() > 1) {
      for (const auto& line : view.changes) {
        message += "\n- " + line.substr(0, line.find('\n'));
      }
      message += "\n";
    }
    auto committed = m_repository.commit(CommitRequest{view.head(), view.files(), message});
    if (committed.status == CommitStatus::parent_moved) {
      // Someone committed meanwhile: forget what was read and recompute on the new head.
      for (const auto& event : events) {
        m_states.erase(group_id(event.group));
      }
      continue;
    }
    for (auto& r : results) {
      if (!changes_files(r.outcome)) {
        continue;
      }
      if (committed.status == CommitStatus::failed) {
        r.outcome = Outcome::failed;
        r.error = committed.error;
      } else {
        r.commit = committed.id;
      }
    }
    if (committed.status == CommitStatus::committed) {
      for (auto& [id, state] : view.states) {
        m_states[id] = std::move(state);
      }
    }
    return results;
  }
  std::vector<ApplyResult> gave_up(events.size());
  for (auto& r : gave_up) {
    r.outcome = Outcome::failed;
    r.error = "the branch kept moving; gave up after retries";
  }
  return gave_up;
}

ApplyResult Engine::apply_to(const Event& event, Overlay& view) {
  const std::string gid = group_id(event.group);
  Plan plan = decide(event, state_for(gid, view));
  if (!changes_files(plan.outcome)) {
    return ApplyResult{plan.outcome, plan.state.incident_id, plan.state.folder, "", ""};
  }
  write(event.group, plan, view);
  std::string what = plan.outcome == Outcome::opened
                         ? "opened (" + severity_name(plan.state.severity) + ")"
                     : plan.outcome == Outcome::reopened ? "reopened"
                     : plan.status                       ? "resolved"
                                   : std::to_string(plan.entries.size()) + " timeline entries";
  view.changes.push_back(plan.state.folder + ": " + what + "\n\nCalloutd-Incident: " +
                         plan.state.incident_id + "\nCalloutd-Group: " + gid + "\n");
  view.states[gid] = plan.state;
  return ApplyResult{plan.outcome, plan.state.incident_id, plan.state.folder, "", ""};
}

Engine::Plan Engine::decide(const Event& event, const std::optional<GroupState>& prior) const {
  const AlertGroup& g = event.group;
  const TimePoint now = event.received_at;
  const std::string gid = group_id(g);
  Plan plan;
  plan.state = prior.value_or(GroupState{});
  plan.state.group_id = gid;
  const bool active = prior && !prior->resolved;

  // Sort the alerts into news and repeats, comparing with what was committed.
  std::vector<const Alert*> firing_new, resolved_new;
  for (const auto& a : g.alerts) {
    auto rec = prior ? prior->alerts.find(a.fingerprint)
                     : std::map<std::string, AlertRecord>::const_iterator{};
    bool known = prior && rec != prior->alerts.end();
    if (a.status == AlertStatus::firing) {
      if (!known || a.starts_at > rec->second.starts_at) {
        firing_new.push_back(&a);
      }
    } else if (!known || (!rec->second.resolved && a.starts_at >= rec->second.starts_at)) {
      resolved_new.push_back(&a);
    }
  }

  if (!active) {
    if (firing_new.empty()) {
      plan.outcome = prior ? Outcome::unchanged : Outcome::ignored;
      return plan;
    }
    plan.route = route_for(m_config.routes, firing_new);
    if (plan.route == nullptr) {
      plan.outcome = Outcome::ignored;
      return plan;
    }
    plan.opening = firing_new;
    TimePoint first_start = or_now(firing_new.front()->starts_at, now);
    for (const Alert* a : firing_new) {
      first_start = std::min(first_start, or_now(a->starts_at, now));
    }
    const Alert& first = *firing_new.front();
    bool reopen = prior && now - prior->resolved_at <= m_config.reopen_window;
    if (reopen) {
      plan.outcome = Outcome::reopened;
      plan.state.resolved = false;
      plan.state.resolved_at = {};
      plan.status = "active";
      plan.entries.emplace_back(
          first_start,
          timeline_line(first_start,
                        describe_alert(g, first) + " firing again within the reopen window (" +
                            format_duration(m_config.reopen_window) + "); callout reopened"));
    } else {
      plan.outcome = Outcome::opened;
      GroupState fresh;
      fresh.group_id = gid;
      fresh.severity = plan.route->severity;
      fresh.technology = technology_for(g, first, plan.route);
      fresh.issue = kebab_slug(alert_name(g, first), "alert");
      fresh.opened_at = first_start;
      fresh.incident_id =
          "am-" + sha256_hex(gid + "|" + format_rfc3339_millis(first_start)).substr(0, 10);
      plan.state = std::move(fresh);
    }
    for (const Alert* a : firing_new) {
      plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, {}, false};
    }
  } else {
    for (const Alert* a : firing_new) {
      bool again = plan.state.alerts.contains(a->fingerprint);
      TimePoint t = or_now(a->starts_at, now);
      std::string summary = label(a->annotations, "summary");
      plan.entries.emplace_back(
          t, timeline_line(t, describe_alert(g, *a) + (again ? " firing again" : " firing") +
                                  (summary.empty() ? "" : ": " + summary)));
      plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, {}, false};
    }
  }
  for (const Alert* a : resolved_new) {
    if (plan.outcome == Outcome::opened || !active) {
      plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, a->ends_at, true};
      continue;
    }
    TimePoint t = or_now(a->ends_at, now);
    plan.entries.emplace_back(t, timeline_line(t, describe_alert(g, *a) + " resolved"));
    plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, a->ends_at, true};
  }
  if (active && g.status == AlertStatus::resolved) {
    TimePoint t{};
    for (const auto& a : g.alerts) {
      t = std::max(t, a.ends_at);
    }
    t = or_now(t, now);
    for (auto& [fp, rec] : plan.state.alerts) {
      rec.resolved = true;
    }
    plan.state.resolved = true;
    plan.state.resolved_at = now;
    plan.status = "resolved";
    plan.entries.emplace_back(
        t, timeline_line(t, "all alerts of the group resolved; Status set to resolved"));
  }
  if (g.truncated_alerts > 0 && g.truncated_alerts != plan.state.truncated_alerts) {
    plan.entries.emplace_back(
        now, timeline_line(now, "Alertmanager left " + std::to_string(g.truncated_alerts) +
                                    " further alerts of the group out of the notification "
                                    "(max_alerts); see the alert source for all of them"));
  }
  plan.state.truncated_alerts = std::max(plan.state.truncated_alerts, g.truncated_alerts);
  if (plan.outcome == Outcome::unchanged && !plan.entries.empty()) {
    plan.outcome = Outcome::updated;
  }
  return plan;
}

void Engine::write(const AlertGroup& g, Plan& plan, Overlay& view) const {
  auto previous_of = [&](const std::string& folder) {
    // Earlier callouts of the same technology and issue sort side by side.
    const RE2 sibling("^" + RE2::QuoteMeta(plan.state.issue) + R"(-\d{4}-\d{2}-\d{2}(-\d+)?$)");
    std::vector<std::string> previous;
    for (const auto& name : view.list(plan.state.technology)) {
      if (plan.state.technology + "/" + name != folder && RE2::FullMatch(name, sibling)) {
        previous.push_back(name);
      }
    }
    std::sort(previous.rbegin(), previous.rend());
    return previous;
  };
  std::optional<std::string> callout;
  if (plan.outcome == Outcome::opened) {
    // Same issue on the same day: -2, -3... after the first.
    auto taken = view.list(plan.state.technology);
    std::string base = plan.state.issue + "-" + format_date(plan.state.opened_at);
    std::string name = base;
    for (int n = 2; std::find(taken.begin(), taken.end(), name) != taken.end(); ++n) {
      name = base + "-" + std::to_string(n);
    }
    plan.state.folder = plan.state.technology + "/" + name;
    auto view_values =
        callout_view(g, plan.opening, *plan.route, plan.state, previous_of(plan.state.folder));
    callout = m_templates.render_callout(view_values);
    view.write(plan.state.folder + "/postmortem.md", m_templates.render_postmortem(view_values));
  } else {
    callout = view.read(plan.state.folder + "/callout.md");
  }
  if (!callout) {
    // Deleted by someone: write it again rather than lose the event.
    log::warn("the callout is missing from the repository; writing it again",
              {{"folder", plan.state.folder}});
    static const Route k_fallback{{}, Severity::hpi, "", "", "existing incident"};
    std::vector<const Alert*> opening = plan.opening;
    if (opening.empty()) {
      opening.push_back(&g.alerts.front());
    }
    const Route* route = plan.route != nullptr ? plan.route : &k_fallback;
    callout = m_templates.render_callout(
        callout_view(g, opening, *route, plan.state, previous_of(plan.state.folder)));
  }
  for (const auto& [t, line] : plan.entries) {
    callout =
        markdown::add_list_entry(*callout, k_timeline_key, t, line, markdown::Order::newest_first);
  }
  if (plan.status) {
    callout = markdown::set_key(*callout, "Status", *plan.status);
  }
  view.write(plan.state.folder + "/callout.md", *callout);
  view.write(state_path(plan.state.group_id), serialize_state(plan.state));
}

std::vector<IncidentSummary> Engine::open_incidents() const {
  std::vector<IncidentSummary> out;
  for (const auto& [id, s] : m_states) {
    if (!s.resolved) {
      out.push_back(
          {s.incident_id, s.folder, s.technology, severity_name(s.severity), s.opened_at});
    }
  }
  return out;
}

}  // namespace calloutd
