// Event: what a receiver makes of a verified webhook, and all the engine needs.
// Plain data; no I/O. Shared by every receiver, hence in namespace calloutd.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "daemon/base/timefmt.hpp"

namespace calloutd {

using Labels = std::map<std::string, std::string>;

enum class AlertStatus { firing, resolved };

struct Alert {
  AlertStatus status = AlertStatus::firing;
  Labels labels;
  Labels annotations;
  TimePoint starts_at{};
  TimePoint ends_at{};  // epoch when unknown (Go's zero time)
  std::string generator_url;
  std::string fingerprint;  // Alertmanager's, or derived from the labels when absent
};

// One Alertmanager webhook notification (payload version 4).
struct AlertGroup {
  std::string receiver;
  AlertStatus status = AlertStatus::firing;
  std::vector<Alert> alerts;
  Labels group_labels;
  Labels common_labels;
  Labels common_annotations;
  std::string external_url;
  std::string group_key;  // as sent; informational only (HA peers may format it differently)
  std::int64_t truncated_alerts = 0;
};

// A PagerDuty person (user reference): id and display name.
struct PagerDutyUser {
  std::string id;
  std::string name;
};

// One PagerDuty V3 webhook event about an incident (or, for resource types
// calloutd does not act on, just enough to say so).
struct PagerDutyEvent {
  std::string id;             // event.id: the same on every retry
  std::string event_type;     // incident.triggered, incident.acknowledged, ..., pagey.ping
  std::string resource_type;  // incident, pagey, service...
  TimePoint occurred_at{};
  PagerDutyUser agent;     // who did it; empty for automatic events
  bool signed_ok = false;  // a configured secret verified the body

  // The incident (from data, or data.incident for notes and responders).
  std::string incident_id;
  std::string incident_url;
  std::int64_t number = 0;
  std::string title;
  std::string status;
  std::string urgency;
  std::string priority;  // priority.summary, e.g. P1
  std::string service_id;
  std::string service_name;
  std::string escalation_policy;
  std::string incident_key;  // Alertmanager's dedup key when Alertmanager paged
  std::vector<std::string> teams;
  std::vector<PagerDutyUser> assignees;
  // Event specifics.
  std::string note;             // incident.annotated: the note text
  PagerDutyUser responder;      // incident.responder.*: the requested user
  std::string responder_state;  // pending, joined, declined
  std::string message;          // responder request or status update text
  std::string conference_url;   // conference_bridge.updated
  std::string conference_number;

  bool is_incident() const { return resource_type == "incident" && !incident_id.empty(); }
};

// A postmortem's Status moving, requested through the API: calloutd checks
// the postmortem and edits the file.
struct PostmortemStatusChange {
  std::string incident_id;
  std::string status;  // draft, in review, published
};

// What people wrote into a file, in a value the engine keeps state for: a
// callout's Status, Severity or Team roles, a postmortem's Status. The
// scanner reads it; the commit that wrote it is its identity (with the
// file, the key and the value), so an edit seen twice (by both daemons of an
// HA pair, or again after a rebase) is applied once.
struct FileObservation {
  std::string folder;  // <technology>/<issue>-<date>[-n]
  std::string file;    // callout.md or postmortem.md
  std::string key;     // Status, Severity or Team roles
  std::string value;   // as read: Status lower-case, Severity upper-case; "" for Team roles
  std::map<std::string, std::string> roles;  // Team roles: role -> holder ("" for n/a)
  std::string commit;                        // the commit that wrote the value
  TimePoint committed_at{};                  // its committer time: when the edit was made

  // "callout.md Status": what the engine keeps the last applied commit of.
  std::string field() const { return file + " " + key; }
};

// The roles a callout's Team roles section names, which the API's role
// changes name too.
inline constexpr const char* k_team_roles[] = {
    "Current Incident Lead", "Operations", "Secondary", "Planning", "Communications", "Manager"};

// Someone taking, leaving or handing over a role through the API.
struct RoleRequest {
  std::string incident_id;
  std::string action;  // join, leave, handover
  std::string role;    // Incident Lead, Operations, Secondary, Planning, Communications, Manager
  std::string person;
  std::string to;               // handover: who takes over
  std::optional<TimePoint> at;  // when it happened, if not now (a shift started earlier)
};

// A callout opened by hand (calloutctl new): a customer report, a slow burn
// no alert caught.
struct ManualIncident {
  std::string technology;  // slug
  std::string issue;       // as written ("replication lag"); the folder gets its slug
  std::string severity;    // MPI or HPI
  std::string summary;
  TimePoint at{};  // when it was reported (chosen by the API, journaled)
};

// A callout resolved by hand through the API (calloutctl resolve): one opened
// by hand, or one none of whose alerts fires any more.
struct ResolveRequest {
  std::string incident_id;
  std::string note;  // what ended it, for the timeline; "" for none
};

// An acknowledgement through the API (calloutctl ack): someone took the
// incident on. The first acknowledgement counts; `person` (optional) takes
// Operations when nobody holds it, as PagerDuty's acknowledgement assigns it.
struct AckRequest {
  std::string incident_id;
  std::string person;
};

using Payload = std::variant<AlertGroup, PagerDutyEvent, PostmortemStatusChange, RoleRequest,
                             ManualIncident, FileObservation, ResolveRequest, AckRequest>;

struct Event {
  std::uint64_t sequence = 0;  // journal sequence number
  TimePoint received_at{};     // when the webhook arrived (journaled, so replay is deterministic)
  Payload payload;

  const AlertGroup* alert_group() const { return std::get_if<AlertGroup>(&payload); }
  const PagerDutyEvent* pagerduty() const { return std::get_if<PagerDutyEvent>(&payload); }
  const PostmortemStatusChange* postmortem() const {
    return std::get_if<PostmortemStatusChange>(&payload);
  }
  const RoleRequest* role_request() const { return std::get_if<RoleRequest>(&payload); }
  const ManualIncident* manual() const { return std::get_if<ManualIncident>(&payload); }
  const FileObservation* observation() const { return std::get_if<FileObservation>(&payload); }
  const ResolveRequest* resolve() const { return std::get_if<ResolveRequest>(&payload); }
  const AckRequest* ack() const { return std::get_if<AckRequest>(&payload); }
};

}  // namespace calloutd
