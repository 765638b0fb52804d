// The keys of the file contract (docs/TEMPLATES.md) that the code reads or
// writes by name: the headings of callout.md and postmortem.md. One home, so
// that a key renamed in the templates is one change here (the keys test holds
// these names to the shipped templates).
#pragma once

namespace calloutd::keys {

// callout.md
inline constexpr char k_incident_number[] = "Incident Number";
inline constexpr char k_severity[] = "Severity";
inline constexpr char k_summary[] = "Summary";
inline constexpr char k_status[] = "Status";
inline constexpr char k_engineer_updates[] = "Engineer updates";
inline constexpr char k_team_roles[] = "Team roles";
inline constexpr char k_incident_timeline[] = "Incident timeline";
inline constexpr char k_supporting_information[] = "Supporting Information";
inline constexpr char k_alert_labels[] = "Alert labels";

// postmortem.md (also: Incident Number, Status, Summary, Supporting Information)
inline constexpr char k_authors[] = "Authors";
inline constexpr char k_impact[] = "Impact";
inline constexpr char k_root_causes[] = "Root causes";
inline constexpr char k_trigger[] = "Trigger";
inline constexpr char k_resolution[] = "Resolution";
inline constexpr char k_action_items[] = "Action Items";
inline constexpr char k_timeline[] = "Timeline";
inline constexpr char k_review[] = "Review";

}  // namespace calloutd::keys
