// The engine's people side: who holds which role and for how long (shifts and
// the 4-hour rule), and the postmortem's review lifecycle.
#include <algorithm>
#include <set>

#include "daemon/base/duration.hpp"
#include "daemon/base/hash.hpp"
#include "daemon/base/log.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/engine/manual.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/text/untrusted_text.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd {
namespace {

// Who is alone in Operations on an open incident, and everything each person is on.
struct Responders {
  std::set<std::string> alone;
  std::map<std::string, std::set<std::string>> incidents_of;  // person -> state ids
};

Responders responders_of(const std::map<std::string, GroupState>& states) {
  Responders out;
  for (const auto& [id, s] : states) {
    if (s.resolved) {
      continue;
    }
    for (const auto& [role, holder] : s.roles) {
      out.incidents_of[holder.first].insert(id);
    }
    auto ops = s.roles.find("Operations");
    if (ops != s.roles.end() && !s.roles.contains("Secondary")) {
      out.alone.insert(ops->second.first);
    }
  }
  return out;
}

}  // namespace

ShiftBook& Engine::shifts_of(Overlay& view) const {
  if (!view.shifts) {
    view.shifts = m_shifts;
  }
  return *view.shifts;
}

void Engine::prefill_from_rota(Plan& plan, TimePoint at) const {
  const Rota* rota = rota_for(m_config->rotas, plan.state.technology);
  if (rota == nullptr) {
    return;
  }
  auto who = on_call(*rota, at);
  std::vector<std::string> filled;
  for (const auto& [role, person] : {std::pair{std::string("Operations"), who.primary},
                                     std::pair{std::string("Secondary"), who.secondary}}) {
    bool decided = plan.state.roles.contains(role) ||
                   std::any_of(plan.role_changes.begin(), plan.role_changes.end(),
                               [&, wanted = role](const auto& c) { return c.role == wanted; });
    if (!person.empty() && !decided) {
      plan.role_changes.push_back({role, person, at});
      filled.push_back(role);
    }
  }
  if (filled.empty()) {
    return;
  }
  std::string roles = filled.size() == 2 ? "Operations and Secondary" : filled.front();
  plan.entries.emplace_back(at, timeline_line(at,
                                              roles + " pre-filled from the on-call rota \"" +
                                                  rota->name + "\" (see Team roles)",
                                              "on-call rota"));
}

void Engine::apply_roles(Plan& plan, Overlay& view) const {
  auto changes = plan.role_changes;
  const bool resolving = plan.resolves;
  if (resolving) {
    // The incident is over: its roles end (Team roles keep the record), not
    // before each began (a resolution written by hand may carry an older time).
    for (const auto& [role, holder] : plan.state.roles) {
      changes.push_back({role, "", std::max(plan.state.resolved_at, holder.second)});
    }
  }
  if (changes.empty()) {
    return;
  }
  auto& shifts = shifts_of(view);
  for (auto& c : changes) {
    // Every way a name arrives (API, PagerDuty, rota, Team roles) meets here:
    // one form, so that the same person is never two.
    c.person = normalise_person_name(c.person);
    auto it = plan.state.roles.find(c.role);
    std::string old = it == plan.state.roles.end() ? "" : it->second.first;
    if (normalise_person_name(old) == c.person) {
      if (!c.person.empty() && c.at < it->second.second) {
        shifts.started_by(c.person, c.at);  // the 4-hour rule counts from the earliest start
        it->second.second = c.at;
      }
      continue;
    }
    if (!old.empty()) {
      shifts.leave(old, c.at);
    }
    if (c.role == "Operations" && !c.person.empty() && c.taken &&
        plan.state.acknowledged_at == TimePoint{}) {
      // Someone took the incident on: its acknowledgement.
      plan.state.acknowledged_at = c.at;
      plan.acknowledged_at = plan.acknowledged_at.value_or(c.at);
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
          "n/a (handover due by " + format_utc(c.at + m_config->shifts.work_limit) + ")";
    }
  }
}

Result<std::vector<std::string>> Engine::postmortem_blockers(const std::string& incident_id,
                                                             const std::string& status) {
  auto sid = state_id_of(incident_id);
  if (sid.empty()) {
    return Error{"no incident \"" + incident_id + "\""};
  }
  const auto& folder = m_states.at(sid).folder;
  auto text = m_repository.read(m_repository.head(), layout::postmortem_path(folder));
  if (!text.ok()) {
    return Error{text.error()};
  }
  if (!*text) {
    return Error{"incident \"" + incident_id + "\" has no postmortem.md"};
  }
  return transition_blockers(read_postmortem(**text, layout::postmortem_path(folder)), status);
}

std::string Engine::state_id_of(const std::string& incident_id, const std::string& folder) const {
  for (const auto& [id, s] : m_states) {
    if ((!incident_id.empty() && s.incident_id == incident_id) ||
        (!folder.empty() && s.folder == folder)) {
      return id;
    }
  }
  return "";
}

Engine::Plan Engine::decide_postmortem(const Event& event, const PostmortemStatusChange& change,
                                       const GroupState& prior, const Overlay& view) const {
  Plan plan;
  plan.state = prior;
  // Check again against the file as it is now.
  auto text = view.read(layout::postmortem_path(plan.state.folder));
  if (!text.ok()) {
    plan.outcome = Outcome::failed;
    plan.error = text.error();
    return plan;
  }
  auto file = read_postmortem(text->value_or(""), layout::postmortem_path(plan.state.folder));
  if (file.status == change.status) {
    plan.outcome = Outcome::unchanged;
    return plan;
  }
  auto blockers = transition_blockers(file, change.status);
  if (!*text || !blockers.empty()) {
    log::warn("postmortem status change refused",
              {{"incident", change.incident_id},
               {"to", change.status},
               {"why", blockers.empty() ? "no postmortem.md" : blockers.front()}});
    plan.outcome = Outcome::ignored;
    return plan;
  }
  plan.postmortem_keys[keys::k_status] = change.status;
  plan.entries.emplace_back(event.received_at,
                            timeline_line(event.received_at,
                                          "postmortem moved from " + plan.state.postmortem_status +
                                              " to " + change.status,
                                          "calloutd API"));
  plan.state.postmortem_status = change.status;
  plan.summary = "postmortem " + change.status;
  plan.outcome = Outcome::updated;
  return plan;
}

bool Engine::has_incident(const std::string& incident_id) const {
  return !state_id_of(incident_id).empty();
}

Engine::Plan Engine::decide_roles(const Event& event, const RoleRequest& r,
                                  const GroupState& prior) const {
  Plan plan;
  plan.state = prior;
  auto it = plan.state.roles.find(r.role);
  const std::string holder =
      normalise_person_name(it == plan.state.roles.end() ? "" : it->second.first);
  const std::string person = normalise_person_name(r.person);
  const std::string to = normalise_person_name(r.to);
  const TimePoint at = r.at.value_or(event.received_at);
  std::string text;
  if (r.action == "join" && !person.empty() && holder != person) {
    plan.role_changes.push_back({r.role, person, at, true});
    text = holder.empty() ? r.role + " taken"
                          : "handover: " + r.role + " passes to the next holder (see Team roles)";
  } else if (r.action == "join" && !person.empty() && at < it->second.second) {
    // The holder was on it before they said so: apply_roles moves the start.
    plan.role_changes.push_back({r.role, person, at, true});
    text = r.role + " held from this time on (the start moved earlier; see Team roles)";
  } else if (r.action == "leave" && !holder.empty() && holder == person) {
    plan.role_changes.push_back({r.role, "", at});
    text = r.role + " left; nobody holds it now";
  } else if (r.action == "handover" && !to.empty() && holder != to) {
    plan.role_changes.push_back({r.role, to, at, true});
    text = "handover: " + r.role + " passes to the next holder (see Team roles)";
  }
  if (text.empty()) {
    plan.outcome = Outcome::unchanged;  // already so: a retry changes nothing
    return plan;
  }
  plan.entries.emplace_back(at, timeline_line(at, text, keys::k_team_roles));
  plan.summary = r.role + " " + r.action;
  plan.outcome = Outcome::updated;
  return plan;
}

Engine::Plan Engine::decide_manual(const ManualIncident& m, const std::string& id,
                                   const std::optional<GroupState>& prior) const {
  Plan plan;
  if (prior) {
    plan.state = *prior;
    plan.outcome = Outcome::unchanged;  // replayed from the journal: already open
    return plan;
  }
  plan.outcome = Outcome::opened;
  plan.state.group_id = id;
  plan.state.incident_id = id;
  plan.state.severity = m.severity == "MPI" ? Severity::mpi : Severity::hpi;
  plan.state.technology = technology_slug(m.technology);
  plan.state.issue = kebab_slug(m.issue, "incident");
  plan.state.opened_at = m.at;
  plan.summary = "opened by hand (" + m.severity + ")";
  plan.make_view = [m](const GroupState& state) { return manual_view(m, state.incident_id); };
  return plan;
}

void Engine::check_work_limits(TimePoint now) {
  Overlay view(m_repository, m_repository.head());
  auto& shifts = shifts_of(view);
  auto responders = responders_of(m_states);
  for (const auto& person : responders.alone) {
    std::string text = work_limit_notice(shifts, person, now);
    if (!text.empty()) {
      add_work_limit_notice(responders.incidents_of[person], text, now, view);
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

std::string Engine::work_limit_notice(ShiftBook& shifts, const std::string& person, TimePoint now) {
  const auto limit = m_config->shifts.work_limit;
  Shift* shift = shifts.find(person);
  if (shift == nullptr) {
    return "";
  }
  auto worked = shifts.worked(person, now);
  if (!shift->breached && worked >= limit) {
    shift->breached = shift->warned = true;
    ++m_breaches;
    return "limit reached: the lone Operations engineer has worked " + format_duration(limit) +
           " without a break; call the Secondary (or hand over) now";
  }
  if (!shift->warned && worked >= limit - m_config->shifts.warning_lead) {
    shift->warned = true;
    return "handover due: the lone Operations engineer reaches the " + format_duration(limit) +
           " limit at " + format_utc(shift->start + limit) + "; hand over or call the Secondary";
  }
  return "";
}

void Engine::add_work_limit_notice(const std::set<std::string>& ids, const std::string& text,
                                   TimePoint now, Overlay& view) const {
  for (const auto& id : ids) {
    auto state = m_states.at(id);
    auto path = layout::callout_path(state.folder);
    auto callout = view.read(path);
    if (!callout.ok()) {
      log::warn("cannot read a callout; the 4-hour rule's notice is not added to it",
                {{"file", path}, {"notice", text}, {"error", callout.error()}});
      continue;
    }
    if (!*callout || unsafe_folder(state.folder, view)) {
      continue;  // gone, or not writable: the incident's next event moves it
    }
    view.write(path, markdown::add_list_entry(**callout, k_timeline_key, now,
                                              timeline_line(now, text, "calloutd"),
                                              markdown::Order::newest_first));
    view.changes.push_back(state.folder + ": 4-hour rule (" + text.substr(0, text.find(':')) +
                           ")\n");
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
    if (now > since + m_config->shifts.work_limit) {
      ++stats.handovers_overdue;
    }
    auto ops = s.roles.find("Operations");
    if (ops != s.roles.end() && !s.roles.contains("Secondary") &&
        m_shifts.worked(ops->second.first, now) >= m_config->shifts.work_limit) {
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

}  // namespace calloutd

namespace calloutd {

Engine::ResponseStats Engine::response_stats(TimePoint now) {
  ResponseStats stats;
  for (const auto& entry : m_states) {  // not a structured binding: clang 14 cannot capture one
    const auto& id = entry.first;
    const auto& state = entry.second;
    if (state.resolved) {
      continue;
    }
    const auto& target = m_config->target_for(state.severity);
    const auto severity = severity_name(state.severity);
    auto check = [&](const char* name, std::chrono::seconds within, bool met) {
      if (met || now <= state.opened_at + within) {
        return;
      }
      ++stats.past[{severity, name}];
      if (m_targets_passed.insert({id, name}).second) {
        stats.breaches.emplace_back(severity, name);
      }
    };
    check("acknowledge", target.acknowledge, state.acknowledged_at != TimePoint{});
    check("resolve", target.resolve, false);
  }
  return stats;
}

}  // namespace calloutd
