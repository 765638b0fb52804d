#include "daemon/engine.hpp"

#include <re2/re2.h>

#include <algorithm>

#include "daemon/duration.hpp"
#include "daemon/hash.hpp"
#include "daemon/log.hpp"
#include "daemon/markdown.hpp"
#include "daemon/slug.hpp"

namespace calloutd {
namespace {

constexpr int k_max_attempts = 8;
constexpr std::size_t k_max_previous_occurrences = 10;
constexpr auto k_handover_limit = std::chrono::hours{4};
constexpr const char* k_source = "Alertmanager";
constexpr const char* k_timeline_key = "Incident timeline";

std::string get(const Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string{} : it->second;
}

// An annotation of the group, else of its first alert.
std::string annotation(const AlertGroup& g, const Alert& first, const std::string& key) {
  auto v = get(g.common_annotations, key);
  return v.empty() ? get(first.annotations, key) : v;
}

std::string alert_name(const AlertGroup& g, const Alert& a) {
  for (const Labels* l : {&a.labels, &g.group_labels, &g.common_labels}) {
    auto v = get(*l, "alertname");
    if (!v.empty()) {
      return v;
    }
  }
  return "alert";
}

// What tells this alert apart from the rest of its group: `instance=api-2:8080`.
// When the notification holds one alert, every label is common; then the usual
// per-target labels name it.
std::string alert_identity(const AlertGroup& g, const Alert& a) {
  std::string out;
  for (const auto& [k, v] : a.labels) {
    if (k == "alertname" || g.common_labels.contains(k)) {
      continue;
    }
    out += (out.empty() ? "" : ", ") + k + "=" + v;
  }
  for (const char* key : {"instance", "pod", "host", "node"}) {
    auto v = get(a.labels, key);
    if (out.empty() && !v.empty() && !g.group_labels.contains(key)) {
      out = std::string(key) + "=" + v;
    }
  }
  return out;
}

std::string describe_alert(const AlertGroup& g, const Alert& a) {
  std::string id = alert_identity(g, a);
  return alert_name(g, a) + (id.empty() ? "" : " (" + id + ")");
}

TimePoint or_now(TimePoint t, TimePoint now) {
  return t == TimePoint{} ? now : t;
}

std::string timeline_line(TimePoint t, const std::string& text) {
  return format_utc(t) + " - " + k_source + " - " + markdown::escape_inline(text);
}

std::string technology_for(const AlertGroup& g, const Alert& first, const Route* route) {
  if (route != nullptr && !route->technology.empty()) {
    return route->technology;
  }
  for (const char* key : {"technology", "service", "job"}) {
    auto v = get(g.common_labels, key);
    if (v.empty()) {
      v = get(first.labels, key);
    }
    if (!v.empty()) {
      return technology_slug(v);
    }
  }
  return "unclassified";
}

// First route matching each alert; the most severe outcome wins for the group.
const Route* route_for(const std::vector<Route>& routes, const std::vector<const Alert*>& alerts) {
  const Route* best = nullptr;
  for (const Alert* a : alerts) {
    for (const auto& r : routes) {
      if (!all_match(r.matchers, a->labels)) {
        continue;
      }
      if (r.severity != Severity::ignore &&
          (best == nullptr || (r.severity == Severity::mpi && best->severity != Severity::mpi))) {
        best = &r;
      }
      break;
    }
  }
  return best;
}

std::string dashboard_link(const AlertGroup& g, const Alert& first, const Route* route) {
  for (const char* key : {"dashboard", "dashboard_url", "grafana_url"}) {
    auto v = annotation(g, first, key);
    if (!markdown::safe_url(v).empty()) {
      return markdown::link("Dashboard", v);
    }
  }
  if (route != nullptr && !route->dashboard_url_template.empty()) {
    Labels labels = g.common_labels;
    labels.insert(first.labels.begin(), first.labels.end());
    auto url = render_url_template(route->dashboard_url_template, labels);
    if (!markdown::safe_url(url).empty()) {
      return markdown::link("Dashboard", url);
    }
  }
  return markdown::link("Alert source (Prometheus graph)", first.generator_url);
}

std::string runbook_link(const AlertGroup& g, const Alert& first) {
  for (const char* key : {"runbook_url", "runbook"}) {
    auto v = annotation(g, first, key);
    if (!v.empty()) {
      return markdown::safe_url(v).empty() ? markdown::escape_inline(v)
                                           : markdown::link("Runbook", v);
    }
  }
  return "n/a";
}

std::string source_link(const AlertGroup& g, const Alert& first) {
  if (!markdown::safe_url(first.generator_url).empty()) {
    return markdown::link("Prometheus graph", first.generator_url);
  }
  return markdown::link("Alertmanager", g.external_url);
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

std::optional<GroupState> Engine::state_for(const std::string& id, const std::string& head) {
  auto it = m_states.find(id);
  if (it != m_states.end()) {
    return it->second;
  }
  auto text = m_repository.read(head, state_path(id));
  auto state = text ? parse_state(*text) : std::nullopt;
  if (state) {
    m_states[id] = *state;
  }
  return state;
}

ApplyResult Engine::apply(const Event& event) {
  for (int attempt = 0; attempt < k_max_attempts; ++attempt) {
    bool retry = false;
    auto result = try_apply(event, m_repository.head(), &retry);
    if (!retry) {
      return result;
    }
    // Someone committed meanwhile: forget what we read and recompute on the new head.
    m_states.erase(group_id(event.group));
  }
  return ApplyResult{Outcome::failed, "", "", "", "the branch kept moving; gave up after retries"};
}

ApplyResult Engine::try_apply(const Event& event, const std::string& head, bool* retry) {
  const AlertGroup& g = event.group;
  const TimePoint now = event.received_at;
  const std::string gid = group_id(g);
  const auto prior = state_for(gid, head);
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
      return ApplyResult{prior ? Outcome::unchanged : Outcome::ignored, plan.state.incident_id,
                         plan.state.folder, "", ""};
    }
    plan.route = route_for(m_config.routes, firing_new);
    if (plan.route == nullptr) {
      return ApplyResult{Outcome::ignored, "", "", "", ""};
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
      std::string summary = get(a->annotations, "summary");
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
  if (plan.outcome == Outcome::unchanged) {
    return ApplyResult{Outcome::unchanged, plan.state.incident_id, plan.state.folder, "", ""};
  }

  // Turn the plan into file contents on top of `head`.
  std::vector<FileWrite> files;
  std::string callout_path;
  std::optional<std::string> callout;
  auto view_for = [&](const std::string& folder) {
    const Alert& first = *plan.opening.front();
    CalloutView v;
    std::string summary = annotation(g, first, "summary");
    std::string description = annotation(g, first, "description");
    v.summary_title = summary.empty() ? alert_name(g, first) : summary;
    v.date = format_date(plan.state.opened_at);
    v.incident_number = markdown::escape_inline(plan.state.incident_id);
    v.severity = severity_name(plan.state.severity);
    v.summary = summary.empty() ? alert_name(g, first) + " is firing" : summary;
    if (!description.empty()) {
      v.summary += ". " + description;
    }
    v.status = "active";
    v.opened_at = format_utc(plan.state.opened_at);
    v.handover_due = format_utc(plan.state.opened_at + k_handover_limit);
    v.first_timeline_entry =
        timeline_line(plan.state.opened_at, alert_name(g, first) + " firing (" +
                                                std::to_string(plan.opening.size()) +
                                                (plan.opening.size() == 1 ? " alert" : " alerts") +
                                                "); callout opened as " + v.severity);
    v.dashboard = dashboard_link(g, first, plan.route);
    v.alert_source = source_link(g, first);
    v.runbook = runbook_link(g, first);
    v.detection = markdown::escape_inline("Alertmanager alert " + alert_name(g, first) +
                                          " (receiver " + g.receiver + ")");
    std::vector<Labels> rows;
    for (const auto& a : g.alerts) {
      rows.push_back(a.labels);
    }
    v.labels_table = labels_table(rows);
    // Earlier callouts of the same technology and issue sort side by side.
    const RE2 sibling("^" + RE2::QuoteMeta(plan.state.issue) + R"(-\d{4}-\d{2}-\d{2}(-\d+)?$)");
    std::vector<std::string> previous;
    for (const auto& name : m_repository.list(head, plan.state.technology)) {
      if (plan.state.technology + "/" + name != folder && RE2::FullMatch(name, sibling)) {
        previous.push_back(name);
      }
    }
    std::sort(previous.rbegin(), previous.rend());
    v.previous_occurrences = previous.empty() ? "n/a" : "";
    for (std::size_t i = 0; i < previous.size() && i < k_max_previous_occurrences; ++i) {
      v.previous_occurrences += (i ? "\n" : "") + std::string("- [") + plan.state.technology + "/" +
                                previous[i] + "](../" + previous[i] + "/callout.md)";
    }
    return v;
  };
  if (plan.outcome == Outcome::opened) {
    // Same issue on the same day: -2, -3... after the first.
    auto taken = m_repository.list(head, plan.state.technology);
    std::string base = plan.state.issue + "-" + format_date(plan.state.opened_at);
    std::string name = base;
    for (int n = 2; std::find(taken.begin(), taken.end(), name) != taken.end(); ++n) {
      name = base + "-" + std::to_string(n);
    }
    plan.state.folder = plan.state.technology + "/" + name;
    auto view = view_for(plan.state.folder);
    callout = m_templates.render_callout(view);
    files.push_back({plan.state.folder + "/postmortem.md", m_templates.render_postmortem(view)});
  } else {
    callout = m_repository.read(head, plan.state.folder + "/callout.md");
    if (!callout) {
      log::warn("the callout is missing from the repository; writing it again",
                {{"folder", plan.state.folder}});
      if (plan.opening.empty()) {
        plan.opening.push_back(&g.alerts.front());
      }
      if (plan.route == nullptr) {
        plan.route = route_for(m_config.routes, plan.opening);
      }
      static const Route k_fallback{{}, Severity::hpi, "", "", "existing incident"};
      if (plan.route == nullptr) {
        plan.route = &k_fallback;
      }
      callout = m_templates.render_callout(view_for(plan.state.folder));
    }
  }
  callout_path = plan.state.folder + "/callout.md";
  for (const auto& [t, line] : plan.entries) {
    callout =
        markdown::add_list_entry(*callout, k_timeline_key, t, line, markdown::Order::newest_first);
  }
  if (plan.status) {
    callout = markdown::set_key(*callout, "Status", *plan.status);
  }
  files.push_back({callout_path, *callout});
  files.push_back({state_path(gid), serialize_state(plan.state)});

  std::string what = plan.outcome == Outcome::opened
                         ? "opened (" + severity_name(plan.state.severity) + ")"
                     : plan.outcome == Outcome::reopened ? "reopened"
                     : plan.status                       ? "resolved"
                                   : std::to_string(plan.entries.size()) + " timeline entries";
  std::string message = plan.state.folder + ": " + what +
                        "\n\nCalloutd-Incident: " + plan.state.incident_id +
                        "\nCalloutd-Group: " + gid + "\n";
  auto committed = m_repository.commit(CommitRequest{head, files, message});
  if (committed.status == CommitStatus::parent_moved) {
    *retry = true;
    return {};
  }
  if (committed.status == CommitStatus::failed) {
    return ApplyResult{Outcome::failed, plan.state.incident_id, plan.state.folder, "",
                       committed.error};
  }
  m_states[gid] = plan.state;
  return ApplyResult{plan.outcome, plan.state.incident_id, plan.state.folder, committed.id, ""};
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
