// What the write-ups say about a PagerDuty incident, and how the config's
// PagerDuty routes, service map and severity map apply to it. Pure functions.
#pragma once

#include <string>

#include "daemon/config/config.hpp"
#include "daemon/state/group_state.hpp"
#include "daemon/writeup/render.hpp"
#include "receivers/event.hpp"

namespace calloutd {

// Labels the PagerDuty routes match on: source="pagerduty", service,
// service_id, team (the first), urgency, priority, escalation_policy, and
// alertname (the incident title).
Labels pagerduty_labels(const PagerDutyEvent& event);

// The first route whose matchers match; routes that require a signature are
// skipped for unsigned deliveries. nullptr when none matches or it says ignore.
const Route* pagerduty_route(const PagerDutyConfig& config, const PagerDutyEvent& event);

// The route's severity, else the map: priority first (P1...), then urgency.
Severity pagerduty_severity(const PagerDutyConfig& config, const Route& route,
                            const PagerDutyEvent& event);

// The route's technology, else the services map (id, then name), else the
// service name as a slug.
std::string pagerduty_technology(const PagerDutyConfig& config, const Route& route,
                                 const PagerDutyEvent& event);

// The values of a callout that PagerDuty opens (no Alertmanager group before it).
CalloutView pagerduty_view(const PagerDutyEvent& event, const Route& route,
                           const GroupState& state);

// `am-1a2b3c4d5e (PagerDuty #9)`: the Incident Number key with PagerDuty's number.
std::string incident_number_text(const GroupState& state);

}  // namespace calloutd
