// Requests people make about an open incident through the API (calloutctl
// resolve, ack; the roles API's leave): what the HTTP answer can say before
// the request is journaled, and what applying it changes.
#include "daemon/base/log.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/text/untrusted_text.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/keys.hpp"

namespace calloutd {
namespace {

using Verdict = Engine::Admission::Verdict;

// The timeline's source for what people asked through the API.
constexpr const char* k_api_source = "calloutd API";

std::string incident_of(const Payload& request) {
  if (const auto* r = std::get_if<RoleRequest>(&request)) {
    return r->incident_id;
  }
  if (const auto* r = std::get_if<ResolveRequest>(&request)) {
    return r->incident_id;
  }
  if (const auto* a = std::get_if<AckRequest>(&request)) {
    return a->incident_id;
  }
  if (const auto* c = std::get_if<PostmortemStatusChange>(&request)) {
    return c->incident_id;
  }
  return "";
}

// The alerts of `state` that still fire, as a refusal names them. The state
// keeps each alert's fingerprint (what Alertmanager's API lists it by) and
// start, not its labels.
std::vector<std::string> firing_alerts(const GroupState& state) {
  std::vector<std::string> out;
  for (const auto& [fingerprint, alert] : state.alerts) {
    if (!alert.resolved) {
      out.push_back("alert " + fingerprint + " firing since " +
                    format_utc(or_now(alert.starts_at, state.opened_at)));
    }
  }
  return out;
}

Engine::Admission admit_leave(const RoleRequest& r, const GroupState& state) {
  auto it = state.roles.find(r.role);
  const std::string holder = it == state.roles.end() ? "" : it->second.first;
  if (normalise_person_name(holder) == normalise_person_name(r.person)) {
    return {};
  }
  return {Verdict::conflict,
          r.person + " does not hold " + r.role + " on " + r.incident_id + "; " +
              (holder.empty() ? "nobody does" : holder + " does"),
          {}};
}

Engine::Admission admit_resolve(const ResolveRequest& r, const GroupState& state) {
  if (state.resolved) {
    return {Verdict::unchanged, r.incident_id + " is resolved already", {}};
  }
  auto firing = firing_alerts(state);
  if (!firing.empty()) {
    // Alertmanager would open it again at its next notification.
    return {Verdict::conflict,
            r.incident_id +
                " is not resolved by hand while its alerts fire; resolve or silence them in "
                "Alertmanager",
            firing};
  }
  return {};
}

Engine::Admission admit_ack(const AckRequest& a, const GroupState& state) {
  if (state.acknowledged_at != TimePoint{}) {
    return {Verdict::unchanged,
            a.incident_id + " was acknowledged at " + format_utc(state.acknowledged_at),
            {}};
  }
  if (state.resolved) {
    return {Verdict::conflict, a.incident_id + " is resolved: there is nothing to acknowledge", {}};
  }
  return {};
}

}  // namespace

Engine::Admission Engine::admit(const Payload& request) const {
  const auto incident = incident_of(request);
  const auto sid = state_id_of(incident);
  if (sid.empty()) {
    return {Verdict::unknown, "no incident \"" + incident + "\"", {}};
  }
  const GroupState& state = m_states.at(sid);
  if (const auto* r = std::get_if<RoleRequest>(&request); r != nullptr && r->action == "leave") {
    return admit_leave(*r, state);
  }
  if (const auto* r = std::get_if<ResolveRequest>(&request)) {
    return admit_resolve(*r, state);
  }
  if (const auto* a = std::get_if<AckRequest>(&request)) {
    return admit_ack(*a, state);
  }
  return {};
}

Engine::Plan Engine::decide_resolve(const Event& event, const ResolveRequest& r,
                                    const GroupState& prior) const {
  Plan plan;
  plan.state = prior;
  if (auto admission = admit_resolve(r, prior); admission.verdict != Verdict::accept) {
    if (admission.verdict == Verdict::conflict) {
      // Alerts fired again between the answer and now: the alerts decide.
      log::warn("resolution by hand not applied",
                {{"incident", r.incident_id}, {"why", admission.reason}});
    }
    plan.outcome = admission.verdict == Verdict::conflict ? Outcome::ignored : Outcome::unchanged;
    return plan;
  }
  const TimePoint at = event.received_at;
  plan.state.resolved = true;
  plan.state.resolved_at = at;
  plan.keys[keys::k_status] = "resolved";
  plan.resolves = true;
  // Every alert it had has resolved (a callout opened by hand has none).
  plan.alerts_resolved = !plan.state.alerts.empty();
  plan.summary = "resolved by hand";
  plan.entries.emplace_back(
      at, timeline_line(
              at,
              "callout resolved by hand" + (r.note.empty() ? "" : ": " + r.note) + "; " +
                  resolution_facts(plan.state, at, m_config->target_for(plan.state.severity)) +
                  "; Status set to resolved",
              k_api_source));
  plan.outcome = Outcome::updated;
  return plan;
}

Engine::Plan Engine::decide_ack(const Event& event, const AckRequest& a,
                                const GroupState& prior) const {
  Plan plan;
  plan.state = prior;
  if (admit_ack(a, prior).verdict != Verdict::accept) {
    plan.outcome = Outcome::unchanged;  // the first acknowledgement counts
    return plan;
  }
  const TimePoint at = event.received_at;
  plan.acknowledged_at = at;
  std::string text = "incident acknowledged by hand";
  if (!a.person.empty() && !plan.state.roles.contains("Operations")) {
    plan.role_changes.push_back({"Operations", a.person, at, true});
    text += "; Operations taken (see Team roles)";
  }
  plan.entries.emplace_back(at, timeline_line(at, text, k_api_source));
  plan.summary = "acknowledged by hand";
  plan.outcome = Outcome::updated;
  return plan;
}

}  // namespace calloutd
