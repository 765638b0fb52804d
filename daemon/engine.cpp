#include "daemon/engine.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "daemon/alert_text.hpp"
#include "daemon/duration.hpp"
#include "daemon/engine_internal.hpp"
#include "daemon/hash.hpp"
#include "daemon/log.hpp"
#include "daemon/markdown.hpp"
#include "daemon/postmortem.hpp"
#include "daemon/shifts.hpp"
#include "daemon/slug.hpp"

namespace calloutd {
namespace {

constexpr int k_max_attempts = 8;
constexpr const char* k_timeline_key = "Incident timeline";

bool is_grafana(const std::string& url) {
  return url.find("/d/") != std::string::npos || url.find("/d-solo/") != std::string::npos ||
         url.find("grafana") != std::string::npos;
}

// `url` with Grafana's from/to (Unix milliseconds) set to [from, to].
std::string pin_time_range(const std::string& url, TimePoint from, TimePoint to) {
  auto ms = [](TimePoint t) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  std::string base = url.substr(0, url.find('#'));
  std::string fragment = url.size() > base.size() ? url.substr(base.size()) : "";
  static const RE2 k_old_range(R"([?&](?:from|to)=[^&]*)");
  RE2::GlobalReplace(&base, k_old_range, "");
  if (base.find('?') == std::string::npos && base.find('&') != std::string::npos) {
    base[base.find('&')] = '?';
  }
  base += (base.find('?') == std::string::npos ? "?" : "&") + std::string("from=") + ms(from) +
          "&to=" + ms(to);
  return base + fragment;
}

// When the callout resolves, the postmortem's Timeline gets the callout's
// entries (oldest first, each once) and its Dashboard the incident's time range.
std::string seed_postmortem(std::string postmortem, const std::string& callout,
                            const GroupState& state) {
  auto existing = markdown::list_item_sources(postmortem, "Timeline");
  std::set<std::string> have(existing.begin(), existing.end());
  // The callout lists newest first: walk it backwards so that entries of the
  // same second keep their order.
  auto entries = markdown::list_item_sources(callout, k_timeline_key);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const auto& entry = *it;
    if (have.insert(entry).second) {
      postmortem = markdown::add_list_entry(postmortem, "Timeline",
                                            parse_timeline_time(entry).value_or(TimePoint{}), entry,
                                            markdown::Order::oldest_first);
    }
  }
  if (is_grafana(state.dashboard_url)) {
    auto pinned = pin_time_range(state.dashboard_url, state.opened_at, state.resolved_at);
    postmortem = markdown::set_list_item(postmortem, "Supporting Information", "Dashboard",
                                         markdown::link("Dashboard (incident time range)", pinned));
  }
  return postmortem;
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

constexpr const char* k_shifts_path = ".calloutd/shifts.json";

Engine::Engine(const Config& config, Repository& repository, const Templates& templates)
    : m_config(config),
      m_repository(repository),
      m_templates(templates),
      m_shifts(config.shifts.short_break) {}

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
  rebuild_index();
  if (auto text = m_repository.read(head, k_shifts_path)) {
    m_shifts = ShiftBook::parse(*text, m_config.shifts.short_break);
  }
  log::info("loaded incident state", {{"groups", std::to_string(m_states.size())}});
}

void Engine::index(const GroupState& s) {
  for (const auto& key : s.dedup_keys) {
    m_by_dedup_key[key] = s.group_id;
  }
  for (const auto& g : s.joined_groups) {
    m_by_group[g] = s.group_id;
  }
  if (!s.pd_incident.empty()) {
    m_by_pagerduty[s.pd_incident] = s.group_id;
  }
}

void Engine::rebuild_index() {
  m_by_dedup_key.clear();
  m_by_group.clear();
  m_by_pagerduty.clear();
  for (const auto& [id, s] : m_states) {
    index(s);
  }
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
    index(*state);
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
    auto committed = commit_view(view);
    if (committed.status == CommitStatus::parent_moved) {
      // Someone committed meanwhile: forget what was read and recompute on the new head.
      for (const auto& [id, state] : view.states) {
        m_states.erase(id);
      }
      rebuild_index();
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
    rebuild_index();
    return results;
  }
  std::vector<ApplyResult> gave_up(events.size());
  for (auto& r : gave_up) {
    r.outcome = Outcome::failed;
    r.error = "the branch kept moving; gave up after retries";
  }
  return gave_up;
}

CommitOutcome Engine::commit_view(Overlay& view) {
  std::string message = view.changes.size() == 1
                            ? view.changes.front()
                            : std::to_string(view.changes.size()) + " callout changes\n";
  if (view.changes.size() > 1) {
    for (const auto& line : view.changes) {
      message += "\n- " + line.substr(0, line.find('\n'));
    }
    message += "\n";
  }
  if (view.shifts) {
    view.write(k_shifts_path, view.shifts->serialize());
  }
  auto committed = m_repository.commit(CommitRequest{view.head(), view.files(), message});
  if (committed.status == CommitStatus::committed) {
    for (auto& [id, state] : view.states) {
      m_states[id] = state;
    }
    if (view.shifts) {
      m_shifts = *view.shifts;
    }
  }
  return committed;
}

ShiftBook& Engine::shifts_of(Overlay& view) const {
  if (!view.shifts) {
    view.shifts = m_shifts;
  }
  return *view.shifts;
}

void Engine::apply_roles(Plan& plan, Overlay& view) const {
  auto changes = plan.role_changes;
  bool resolving = plan.keys.contains("Status") && plan.keys.at("Status") == "resolved";
  if (resolving) {
    // The incident is over: its roles end (Team roles keep the record).
    for (const auto& [role, holder] : plan.state.roles) {
      changes.push_back({role, "", plan.state.resolved_at});
    }
  }
  if (changes.empty()) {
    return;
  }
  auto& shifts = shifts_of(view);
  for (const auto& c : changes) {
    auto it = plan.state.roles.find(c.role);
    std::string old = it == plan.state.roles.end() ? "" : it->second.first;
    if (old == c.person) {
      continue;
    }
    if (!old.empty()) {
      shifts.leave(old, c.at);
    }
    if (c.person.empty()) {
      plan.state.roles.erase(c.role);
    } else {
      shifts.join(c.person, c.at);
      plan.state.roles[c.role] = {c.person, c.at};
    }
    if (resolving && c.person.empty()) {
      continue;
    }
    plan.roles[c.role] = c.person.empty() ? "n/a" : markdown::escape_inline(c.person);
    if (c.role == "Operations" && !old.empty() && !c.person.empty()) {
      // A handover: the next one is due within the work limit.
      plan.state.last_handover = c.at;
      plan.roles["Next Incident Lead"] =
          "n/a (handover due by " + format_utc(c.at + m_config.shifts.work_limit) + ")";
    }
  }
}

ApplyResult Engine::apply_to(const Event& event, Overlay& view) {
  Plan plan;
  if (const auto* g = event.alert_group()) {
    auto sid = state_id_for(*g, view);
    plan = decide_alerts(event, *g, sid, state_for(sid, view));
  } else if (const auto* pd = event.pagerduty()) {
    auto sid = state_id_for(*pd);
    plan = decide_pagerduty(event, *pd, sid, state_for(sid, view));
  } else if (const auto* request = event.role_request()) {
    auto sid = state_id_of(PostmortemStatusChange{request->incident_id, "", "", false});
    plan = decide_roles(event, *request, sid.empty() ? std::nullopt : state_for(sid, view));
  } else if (const auto* change = event.postmortem()) {
    auto sid = state_id_of(*change);
    plan =
        decide_postmortem(event, *change, sid.empty() ? std::nullopt : state_for(sid, view), view);
  }
  if (!changes_files(plan.outcome)) {
    return ApplyResult{plan.outcome, plan.state.incident_id, plan.state.folder, "", ""};
  }
  apply_roles(plan, view);
  write(plan, view);
  std::string what = !plan.summary.empty() ? plan.summary
                     : plan.outcome == Outcome::opened
                         ? "opened (" + severity_name(plan.state.severity) + ")"
                     : plan.outcome == Outcome::reopened
                         ? "reopened"
                         : std::to_string(plan.entries.size()) + " timeline entries";
  view.changes.push_back(plan.state.folder + ": " + what +
                         "\n\nCalloutd-Incident: " + plan.state.incident_id +
                         "\nCalloutd-Group: " + plan.state.group_id + "\n");
  view.states[plan.state.group_id] = plan.state;
  index(plan.state);
  ApplyResult result{plan.outcome, plan.state.incident_id, plan.state.folder, "", ""};
  result.severity = severity_name(plan.state.severity);
  auto seconds = [&](TimePoint t) {
    return std::chrono::duration<double>(t - plan.state.opened_at).count();
  };
  if (plan.acknowledged_at) {
    result.acknowledged_after_seconds = seconds(*plan.acknowledged_at);
  }
  if (plan.keys.contains("Status") && plan.keys.at("Status") == "resolved") {
    result.resolved_after_seconds = seconds(plan.state.resolved_at);
  }
  return result;
}

std::string Engine::state_id_for(const AlertGroup& g, const Overlay& view) {
  const std::string gid = group_id(g);
  if (auto it = m_by_group.find(gid); it != m_by_group.end()) {
    return it->second;
  }
  if (g.group_key.empty() || state_for(gid, view)) {
    return gid;
  }
  // Alertmanager paged PagerDuty for this group, and PagerDuty's webhook came
  // first: the group joins the callout PagerDuty opened.
  // Only a callout PagerDuty opened is joined: another Alertmanager group with
  // the same key text is another group.
  if (auto it = m_by_dedup_key.find(sha256_hex(g.group_key));
      it != m_by_dedup_key.end() && it->second.rfind(k_pagerduty_state_prefix, 0) == 0) {
    return it->second;
  }
  return gid;
}

Engine::Plan Engine::decide_alerts(const Event& event, const AlertGroup& g, const std::string& sid,
                                   const std::optional<GroupState>& prior) const {
  const TimePoint now = event.received_at;
  Plan plan;
  plan.state = prior.value_or(GroupState{});
  if (!prior) {
    plan.state.group_id = sid;
  }
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
      plan.keys["Status"] = "active";
      plan.entries.emplace_back(
          first_start,
          timeline_line(first_start,
                        describe_alert(g, first) + " firing again within the reopen window (" +
                            format_duration(m_config.reopen_window) + "); callout reopened"));
    } else {
      plan.outcome = Outcome::opened;
      GroupState fresh;
      fresh.group_id = sid;
      fresh.severity = plan.route->severity;
      fresh.technology = technology_for(g, first, plan.route);
      fresh.issue = kebab_slug(alert_name(g, first), "alert");
      fresh.opened_at = first_start;
      fresh.incident_id =
          "am-" + sha256_hex(sid + "|" + format_rfc3339_millis(first_start)).substr(0, 10);
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
    plan.keys["Status"] = "resolved";
    plan.summary = "resolved";
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
  if (changes_files(plan.outcome)) {
    if (!g.group_key.empty()) {
      plan.state.dedup_keys.insert(sha256_hex(g.group_key));
    }
    if (plan.state.group_id != group_id(g)) {
      plan.state.joined_groups.insert(group_id(g));
    }
    // The callout's first values, for opening it (or writing it again if deleted).
    const Route* route = plan.route;
    std::vector<const Alert*> opening =
        plan.opening.empty() ? std::vector<const Alert*>{&g.alerts.front()} : plan.opening;
    plan.make_view = [&g, route, opening, this](const GroupState& state) {
      static const Route k_fallback{{}, Severity::hpi, "", "", "existing incident"};
      const Route* r = route != nullptr ? route : route_for(m_config.routes, opening);
      return callout_view(g, opening, r != nullptr ? *r : k_fallback, state);
    };
  }
  return plan;
}

void Engine::write(Plan& plan, Overlay& view) const {
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
  auto render_view = [&] {
    auto v = plan.make_view(plan.state);
    v.previous_occurrences =
        previous_occurrences(plan.state.technology, previous_of(plan.state.folder));
    return v;
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
    auto values = render_view();
    plan.state.dashboard_url = values.dashboard_url;
    callout = m_templates.render_callout(values);
    view.write(plan.state.folder + "/postmortem.md", m_templates.render_postmortem(values));
  } else {
    callout = view.read(plan.state.folder + "/callout.md");
  }
  if (!callout) {
    // Deleted by someone: write it again rather than lose the event.
    log::warn("the callout is missing from the repository; writing it again",
              {{"folder", plan.state.folder}});
    callout = m_templates.render_callout(render_view());
  }
  for (const auto& [t, line] : plan.entries) {
    callout =
        markdown::add_list_entry(*callout, k_timeline_key, t, line, markdown::Order::newest_first);
  }
  for (const auto& [key, value] : plan.keys) {
    callout = markdown::set_key(*callout, key, value);
  }
  for (const auto& [role, holder] : plan.roles) {
    callout = markdown::set_list_item(*callout, "Team roles", role, holder);
  }
  view.write(plan.state.folder + "/callout.md", *callout);
  bool resolving = plan.keys.contains("Status") && plan.keys.at("Status") == "resolved";
  if (resolving || !plan.postmortem_keys.empty()) {
    if (auto postmortem = view.read(plan.state.folder + "/postmortem.md")) {
      for (const auto& [key, value] : plan.postmortem_keys) {
        postmortem = markdown::set_key(*postmortem, key, value);
      }
      if (resolving) {
        postmortem = seed_postmortem(*postmortem, *callout, plan.state);
      }
      view.write(plan.state.folder + "/postmortem.md", *postmortem);
    }
  }
  view.write(state_path(plan.state.group_id), serialize_state(plan.state));
}

void Engine::observe_postmortems(const std::map<std::string, std::string>& status_by_folder,
                                 TimePoint now) {
  std::vector<Event> events;
  for (const auto& [id, s] : m_states) {
    auto it = status_by_folder.find(s.folder);
    if (it != status_by_folder.end() && !it->second.empty() && it->second != s.postmortem_status) {
      events.push_back(
          Event{0, now, PostmortemStatusChange{s.incident_id, s.folder, it->second, true}});
    }
  }
  if (!events.empty()) {
    apply_batch(events);
  }
}

Result<std::vector<std::string>> Engine::postmortem_blockers(const std::string& incident_id,
                                                             const std::string& status) {
  auto sid = state_id_of(PostmortemStatusChange{incident_id, "", status, false});
  if (sid.empty()) {
    return Error{"no incident \"" + incident_id + "\""};
  }
  const auto& folder = m_states.at(sid).folder;
  auto text = m_repository.read(m_repository.head(), folder + "/postmortem.md");
  if (!text) {
    return Error{"incident \"" + incident_id + "\" has no postmortem.md"};
  }
  return transition_blockers(read_postmortem(*text, folder + "/postmortem.md"), status);
}

std::string Engine::state_id_of(const PostmortemStatusChange& change) const {
  for (const auto& [id, s] : m_states) {
    if ((!change.incident_id.empty() && s.incident_id == change.incident_id) ||
        (!change.folder.empty() && s.folder == change.folder)) {
      return id;
    }
  }
  return "";
}

Engine::Plan Engine::decide_postmortem(const Event& event, const PostmortemStatusChange& change,
                                       const std::optional<GroupState>& prior,
                                       const Overlay& view) const {
  Plan plan;
  if (!prior) {
    plan.outcome = Outcome::ignored;  // a folder people made by hand, or an unknown id
    return plan;
  }
  plan.state = *prior;
  if (plan.state.postmortem_status == change.status && change.observed) {
    plan.outcome = Outcome::unchanged;
    return plan;
  }
  if (!change.observed) {
    // Requested through the API: check again against the file as it is now.
    auto text = view.read(plan.state.folder + "/postmortem.md");
    auto file = read_postmortem(text.value_or(""), plan.state.folder + "/postmortem.md");
    if (file.status == change.status) {
      plan.outcome = Outcome::unchanged;
      return plan;
    }
    auto blockers = transition_blockers(file, change.status);
    if (!text || !blockers.empty()) {
      log::warn("postmortem status change refused",
                {{"incident", change.incident_id},
                 {"to", change.status},
                 {"why", blockers.empty() ? "no postmortem.md" : blockers.front()}});
      plan.outcome = Outcome::ignored;
      return plan;
    }
    plan.postmortem_keys["Status"] = change.status;
  }
  plan.entries.emplace_back(event.received_at,
                            timeline_line(event.received_at,
                                          "postmortem moved from " + plan.state.postmortem_status +
                                              " to " + change.status,
                                          change.observed ? "Postmortem" : "calloutd API"));
  plan.state.postmortem_status = change.status;
  plan.summary = "postmortem " + change.status;
  plan.outcome = Outcome::updated;
  return plan;
}

bool Engine::has_incident(const std::string& incident_id) const {
  return !state_id_of(PostmortemStatusChange{incident_id, "", "", false}).empty();
}

Engine::Plan Engine::decide_roles(const Event& event, const RoleRequest& r,
                                  const std::optional<GroupState>& prior) const {
  Plan plan;
  if (!prior) {
    plan.outcome = Outcome::ignored;
    return plan;
  }
  plan.state = *prior;
  auto it = plan.state.roles.find(r.role);
  std::string holder = it == plan.state.roles.end() ? "" : it->second.first;
  const TimePoint at = r.at.value_or(event.received_at);
  std::string text;
  if (r.action == "join" && holder != r.person) {
    plan.role_changes.push_back({r.role, r.person, at});
    text = holder.empty() ? r.role + " taken"
                          : "handover: " + r.role + " passes to the next holder (see Team roles)";
  } else if (r.action == "leave" && holder == r.person) {
    plan.role_changes.push_back({r.role, "", at});
    text = r.role + " left; nobody holds it now";
  } else if (r.action == "handover" && holder != r.to) {
    plan.role_changes.push_back({r.role, r.to, at});
    text = "handover: " + r.role + " passes to the next holder (see Team roles)";
  }
  if (text.empty()) {
    plan.outcome = Outcome::unchanged;  // already so: a retry changes nothing
    return plan;
  }
  plan.entries.emplace_back(at, timeline_line(at, text, "Team roles"));
  plan.summary = r.role + " " + r.action;
  plan.outcome = Outcome::updated;
  return plan;
}

void Engine::check_work_limits(TimePoint now) {
  const auto limit = m_config.shifts.work_limit;
  Overlay view(m_repository, m_repository.head());
  auto& shifts = shifts_of(view);
  // Who is alone in Operations somewhere, and everything each person is on.
  std::set<std::string> alone;
  std::map<std::string, std::set<std::string>> incidents_of;  // person -> state ids
  for (const auto& [id, s] : m_states) {
    if (s.resolved) {
      continue;
    }
    for (const auto& [role, holder] : s.roles) {
      incidents_of[holder.first].insert(id);
    }
    auto ops = s.roles.find("Operations");
    if (ops != s.roles.end() && !s.roles.contains("Secondary")) {
      alone.insert(ops->second.first);
    }
  }
  for (const auto& person : alone) {
    Shift* shift = shifts.find(person);
    if (shift == nullptr) {
      continue;
    }
    auto worked = shifts.worked(person, now);
    std::string text;
    if (!shift->breached && worked >= limit) {
      shift->breached = shift->warned = true;
      ++m_breaches;
      text = "limit reached: the lone Operations engineer has worked " + format_duration(limit) +
             " without a break; call the Secondary (or hand over) now";
    } else if (!shift->warned && worked >= limit - m_config.shifts.warning_lead) {
      shift->warned = true;
      text = "handover due: the lone Operations engineer reaches the " + format_duration(limit) +
             " limit at " + format_utc(shift->start + limit) + "; hand over or call the Secondary";
    }
    if (text.empty()) {
      continue;
    }
    for (const auto& id : incidents_of[person]) {
      auto state = m_states.at(id);
      auto path = state.folder + "/callout.md";
      auto callout = view.read(path);
      if (!callout) {
        continue;
      }
      view.write(path, markdown::add_list_entry(*callout, k_timeline_key, now,
                                                timeline_line(now, text, "calloutd"),
                                                markdown::Order::newest_first));
      view.changes.push_back(state.folder + ": 4-hour rule (" + text.substr(0, text.find(':')) +
                             ")\n");
    }
  }
  if (!view.changes.empty()) {
    auto committed = commit_view(view);
    if (committed.status != CommitStatus::committed) {
      log::warn("could not record a work-limit notice; retrying at the next check",
                {{"error", committed.error.empty() ? "the branch moved" : committed.error}});
    }
  }
}

Engine::ResponderStats Engine::responder_stats(TimePoint now) const {
  ResponderStats stats;
  stats.breaches = m_breaches;
  std::set<std::string> over;
  for (const auto& [id, s] : m_states) {
    if (s.resolved) {
      continue;
    }
    for (const auto& [role, holder] : s.roles) {
      ++stats.on_shift_by_role[role];
    }
    TimePoint since = s.last_handover == TimePoint{} ? s.opened_at : s.last_handover;
    if (now > since + m_config.shifts.work_limit) {
      ++stats.handovers_overdue;
    }
    auto ops = s.roles.find("Operations");
    if (ops != s.roles.end() && !s.roles.contains("Secondary") &&
        m_shifts.worked(ops->second.first, now) >= m_config.shifts.work_limit) {
      over.insert(ops->second.first);
    }
  }
  stats.over_limit = static_cast<int>(over.size());
  for (const auto& [person, shift] : m_shifts.shifts()) {
    if (m_shifts.on_shift(person, now)) {
      stats.work_seconds.emplace_back(person,
                                      static_cast<double>(m_shifts.worked(person, now).count()));
    }
  }
  std::sort(stats.work_seconds.begin(), stats.work_seconds.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  return stats;
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
