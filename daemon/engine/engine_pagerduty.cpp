// The engine's PagerDuty side: a PagerDuty incident opens a callout, or joins
// the one its Alertmanager group opened, and each incident event becomes a
// timeline entry, a role or a key of that callout.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include "daemon/base/hash.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/text/url_redact.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/pagerduty_text.hpp"

namespace calloutd {
namespace {

// PagerDuty retries a delivery for up to 48 hours: an event id is remembered
// that long after it was applied, whatever else arrives meanwhile. The count
// cap is a safety net (an incident with 20,000 events in 48 hours).
constexpr auto k_retry_window = std::chrono::hours(48);
constexpr std::size_t k_max_remembered_events = 20'000;
constexpr const char* k_source = "PagerDuty";

std::string names(const std::vector<PagerDutyUser>& users) {
  std::string out;
  for (const auto& u : users) {
    out += (out.empty() ? "" : ", ") + (u.name.empty() ? u.id : u.name);
  }
  return out;
}

std::string line(const PagerDutyEvent& e, const std::string& text) {
  return timeline_line(e.occurred_at, text, k_source);
}

// Records `id` as applied at `now` and forgets ids PagerDuty can no longer
// send again. Ids from a state file without times count from `now` (the first
// event after an upgrade), so they too are kept for the whole window.
void remember_event(std::map<std::string, TimePoint>& applied, const std::string& id,
                    TimePoint now) {
  for (auto& [seen, at] : applied) {
    if (at == TimePoint{}) {
      at = now;
    }
  }
  std::erase_if(applied, [&](const auto& entry) { return entry.second + k_retry_window < now; });
  applied[id] = now;
  while (applied.size() > k_max_remembered_events) {
    applied.erase(
        std::min_element(applied.begin(), applied.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
}

// The callout's first values for `e`'s incident (to open it, or to write it
// again when someone deleted it).
std::function<CalloutView(const GroupState&)> view_of(const PagerDutyEvent& e, const Route* route) {
  return [e, route](const GroupState& state) {
    static const Route k_any = PagerDutyConfig::default_routes().front();
    return pagerduty_view(e, route != nullptr ? *route : k_any, state);
  };
}

}  // namespace

std::string Engine::state_id_for(const PagerDutyEvent& e) const {
  if (auto it = m_by_pagerduty.find(e.incident_id); it != m_by_pagerduty.end()) {
    return it->second;
  }
  // Alertmanager's PagerDuty notifier sends SHA-256(groupKey) as the dedup key,
  // which PagerDuty reports as the incident key.
  if (auto it = m_by_dedup_key.find(e.incident_key);
      !e.incident_key.empty() && it != m_by_dedup_key.end()) {
    return it->second;
  }
  return k_pagerduty_state_prefix + sha256_hex(e.incident_id).substr(0, 16);
}

// One PagerDuty event applied to a plan. Each event type calloutd records has
// a step (see handler_for) that adds its timeline entries, roles and keys.
struct Engine::PagerDutyStep {
  const PagerDutyEvent& e;
  const PagerDutyConfig& config;
  Plan& plan;
  const std::string number;  // "#<n>", as the entries name the incident
  const Config& full;        // the response targets

  using Handler = void (PagerDutyStep::*)();
  // The step for `event_type`; nullptr for a type calloutd records nothing for.
  static Handler handler_for(const std::string& event_type);

  // A callout for an incident calloutd has not seen; false (plan ignored)
  // when it is over already or no route takes it.
  bool open(const std::string& sid);
  // The incident's number, URL, and a note when it joins an existing callout.
  void link(bool joining);
  // The assignees PagerDuty reports now (after the step, which reads the old ones).
  void record_assignees();

  void triggered();
  void acknowledged();
  void unacknowledged();
  void handed_over();  // reassigned, escalated or delegated
  void responder_added();
  void responder_replied();
  void priority_updated();
  void annotated();
  void status_update_published();
  void conference_bridge_updated();
  void status_changed();  // reopened or resolved

  void add_entry(const std::string& text) {
    plan.entries.emplace_back(e.occurred_at, line(e, text));
  }
  void log_role(const std::string& what) {
    plan.state.pd_role_log.emplace_back(e.occurred_at, what);
  }
  std::string who() const { return e.agent.name.empty() ? e.agent.id : e.agent.name; }
};

Engine::PagerDutyStep::Handler Engine::PagerDutyStep::handler_for(const std::string& event_type) {
  static const std::map<std::string, Handler, std::less<>> k_steps = {
      {"incident.triggered", &PagerDutyStep::triggered},
      {"incident.acknowledged", &PagerDutyStep::acknowledged},
      {"incident.unacknowledged", &PagerDutyStep::unacknowledged},
      {"incident.reassigned", &PagerDutyStep::handed_over},
      {"incident.escalated", &PagerDutyStep::handed_over},
      {"incident.delegated", &PagerDutyStep::handed_over},
      {"incident.responder.added", &PagerDutyStep::responder_added},
      {"incident.responder.replied", &PagerDutyStep::responder_replied},
      {"incident.priority_updated", &PagerDutyStep::priority_updated},
      {"incident.annotated", &PagerDutyStep::annotated},
      {"incident.status_update_published", &PagerDutyStep::status_update_published},
      {"incident.conference_bridge.updated", &PagerDutyStep::conference_bridge_updated},
      {"incident.reopened", &PagerDutyStep::status_changed},
      {"incident.resolved", &PagerDutyStep::status_changed},
  };
  auto it = k_steps.find(event_type);
  return it == k_steps.end() ? nullptr : it->second;
}

bool Engine::PagerDutyStep::open(const std::string& sid) {
  if (e.event_type == "incident.resolved") {
    plan.outcome = Outcome::ignored;  // over before calloutd heard of it
    return false;
  }
  plan.route = pagerduty_route(config, e);
  if (plan.route == nullptr) {
    plan.outcome = Outcome::ignored;
    return false;
  }
  plan.outcome = Outcome::opened;
  plan.state.group_id = sid;
  plan.state.incident_id = "pd-" + kebab_slug(e.incident_id, "incident");
  plan.state.severity = pagerduty_severity(config, *plan.route, e);
  plan.state.technology = pagerduty_technology(config, *plan.route, e);
  plan.state.issue = kebab_slug(e.title, "pagerduty-incident");
  plan.state.opened_at = e.occurred_at;
  if (!e.incident_key.empty()) {
    plan.state.dedup_keys.insert(e.incident_key);
  }
  return true;
}

void Engine::PagerDutyStep::link(bool joining) {
  if (plan.state.pd_incident.empty()) {
    plan.state.pd_incident = e.incident_id;
  }
  if (e.number > 0) {
    plan.state.pd_number = e.number;
  }
  if (!e.incident_url.empty()) {
    plan.state.pd_url = redact_url_credentials(e.incident_url);
  }
  if (joining) {
    add_entry("PagerDuty incident " + number + " joined this callout");
    plan.keys[keys::k_incident_number] = incident_number_text(plan.state);
  }
}

void Engine::PagerDutyStep::record_assignees() {
  if (!e.assignees.empty()) {
    plan.state.pd_assignees.clear();
    for (const auto& a : e.assignees) {
      plan.state.pd_assignees.push_back(a.name.empty() ? a.id : a.name);
    }
  }
}

void Engine::PagerDutyStep::triggered() {
  if (!e.assignees.empty()) {
    plan.role_changes.push_back({"Operations", names(e.assignees), e.occurred_at});
    log_role("assigned: " + names(e.assignees));
  }
}

void Engine::PagerDutyStep::acknowledged() {
  add_entry("incident " + number + " acknowledged in PagerDuty by Operations");
  plan.role_changes.push_back({"Operations", who(), e.occurred_at});
  bool first_ack =
      std::none_of(plan.state.pd_role_log.begin(), plan.state.pd_role_log.end(),
                   [](const auto& entry) { return entry.second.rfind("acknowledged: ", 0) == 0; });
  if (first_ack) {
    plan.acknowledged_at = e.occurred_at;
  }
  log_role("acknowledged: " + who());
}

void Engine::PagerDutyStep::unacknowledged() {
  add_entry("acknowledgement timed out; incident " + number + " unacknowledged");
}

void Engine::PagerDutyStep::handed_over() {
  std::string verb = e.event_type.substr(std::string("incident.").size());
  std::string to = names(e.assignees);
  std::string from = plan.state.pd_assignees.empty() ? "" : plan.state.pd_assignees.front();
  // Names belong in Team roles, not in the narrative: the entry says which role moved.
  add_entry("handover: incident " + verb + " in PagerDuty" +
            (e.escalation_policy.empty() || verb != "escalated"
                 ? ""
                 : " (escalation policy " + e.escalation_policy + ")") +
            "; Operations passes to the new assignee (see Team roles)");
  if (!to.empty()) {
    plan.role_changes.push_back({"Operations", to, e.occurred_at});
  }
  log_role(verb + ": " + (from.empty() ? "n/a" : from) + " -> " + (to.empty() ? "n/a" : to));
}

void Engine::PagerDutyStep::responder_added() {
  add_entry("responder requested through PagerDuty for the Secondary role (" +
            (e.responder_state.empty() ? "pending" : e.responder_state) + ")");
  if (!e.responder.name.empty()) {
    plan.role_changes.push_back({"Secondary", e.responder.name, e.occurred_at});
  }
  log_role("responder added: " + e.responder.name);
}

void Engine::PagerDutyStep::responder_replied() {
  add_entry("Secondary responder replied in PagerDuty: " +
            (e.responder_state.empty() ? "n/a" : e.responder_state));
  log_role("responder replied (" + e.responder_state + "): " + e.responder.name);
}

void Engine::PagerDutyStep::priority_updated() {
  Severity severity = pagerduty_severity(config, PagerDutyConfig::default_routes().front(), e);
  std::string text = "priority set to " + (e.priority.empty() ? std::string("none") : e.priority) +
                     " in PagerDuty";
  if (severity != plan.state.severity) {
    plan.state.severity = severity;
    plan.keys[keys::k_severity] = severity_name(severity);
    text += "; Severity now " + severity_name(severity);
  }
  add_entry(text);
}

void Engine::PagerDutyStep::annotated() {
  add_entry("note: " + e.note);
}

void Engine::PagerDutyStep::status_update_published() {
  add_entry("status update published: " + e.message);
}

void Engine::PagerDutyStep::conference_bridge_updated() {
  std::string bridge = markdown::link("conference bridge", e.conference_url, "");
  if (!e.conference_number.empty()) {
    bridge += (bridge.empty() ? "" : ", ") + markdown::escape_inline("dial " + e.conference_number);
  }
  plan.keys[keys::k_engineer_updates] = bridge.empty() ? "n/a" : bridge;
  add_entry("conference bridge updated in PagerDuty");
}

void Engine::PagerDutyStep::status_changed() {
  bool resolve = e.event_type == "incident.resolved";
  // Retries may come out of order: only a newer status change counts.
  if (e.occurred_at >= plan.state.pd_status_at) {
    plan.state.pd_status_at = e.occurred_at;
    plan.state.resolved = resolve;
    plan.state.resolved_at = resolve ? e.occurred_at : TimePoint{};
    plan.keys[keys::k_status] = resolve ? "resolved" : "active";
    plan.resolves = resolve;
    plan.alerts_resolved = resolve;
    plan.reopens = !resolve;
    plan.summary = resolve ? "resolved" : "reopened";
  }
  add_entry("incident " + number + (resolve ? " resolved" : " reopened") + " in PagerDuty" +
            (resolve ? "; " + resolution_facts(plan.state, e.occurred_at,
                                               full.target_for(plan.state.severity))
                     : ""));
}

Engine::Plan Engine::decide_pagerduty(const Event& event, const PagerDutyEvent& e,
                                      const std::string& sid,
                                      const std::optional<GroupState>& prior) const {
  Plan plan;
  plan.state = prior.value_or(GroupState{});
  if (!e.is_incident() || plan.state.pd_events.contains(e.id)) {
    plan.outcome = e.is_incident() ? Outcome::unchanged : Outcome::ignored;
    return plan;  // a retry, or nothing calloutd acts on
  }
  PagerDutyStep step{e, m_config->pagerduty, plan, "#" + std::to_string(e.number), *m_config};
  if (!prior && !step.open(sid)) {
    return plan;
  }
  step.link(plan.state.pd_incident.empty() && prior.has_value());
  if (auto handler = PagerDutyStep::handler_for(e.event_type)) {
    (step.*handler)();
  }
  step.record_assignees();
  if (plan.outcome != Outcome::opened) {
    bool changed = !plan.entries.empty() || !plan.keys.empty() || !plan.role_changes.empty();
    if (!changed) {
      plan.outcome = Outcome::unchanged;  // an event type calloutd records nothing for
      return plan;
    }
    plan.outcome = Outcome::updated;
  }
  remember_event(plan.state.pd_events, e.id, event.received_at);
  plan.make_view = view_of(e, plan.route);
  return plan;
}

}  // namespace calloutd
