// What the daemon remembers about an alert group between notifications. It is
// committed in the callouts repository (`.calloutd/groups/<xx>/<group_id>.json`,
// see state_path) in the same commit as the markdown it explains, so the
// repository alone holds the daemon's state after a restart.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/base/timefmt.hpp"
#include "daemon/config/config.hpp"
#include "receivers/event.hpp"

namespace calloutd {

struct AlertRecord {
  TimePoint starts_at{};
  TimePoint ends_at{};
  bool resolved = false;
};

struct GroupState {
  std::string group_id;
  std::string incident_id;
  std::string folder;  // <technology>/<callout-issue>-<date>[-n]
  std::string technology;
  std::string issue;
  Severity severity = Severity::hpi;
  bool resolved = false;
  TimePoint opened_at{};
  TimePoint resolved_at{};
  TimePoint acknowledged_at{};  // the first acknowledgement (PagerDuty's), for time to acknowledge
  std::int64_t truncated_alerts = 0;
  std::string dashboard_url;                // pinned to the incident's time range in the postmortem
  std::string postmortem_status = "draft";  // as last recorded in the callout's timeline
  // Who holds each role (Incident Lead, Operations, Secondary, ...) and since when.
  std::map<std::string, std::pair<std::string, TimePoint>> roles;
  TimePoint last_handover{};                  // the Next Incident Lead is due 4 hours after it
  std::map<std::string, AlertRecord> alerts;  // by fingerprint: the latest occurrence
  // People's edits applied: "callout.md Status" (FileObservation::field) ->
  // the commit whose value was applied last, so that the same edit seen again
  // (by the other daemon of an HA pair, after a rebase) changes nothing.
  std::map<std::string, std::string> observed;

  // Correlation: SHA-256 of the Alertmanager groupKeys seen (what Alertmanager's
  // PagerDuty notifier sends as dedup key), or the PagerDuty incident key; and
  // the other Alertmanager groups that joined this callout.
  std::set<std::string> dedup_keys;
  std::set<std::string> joined_groups;

  // PagerDuty's side of the incident, when there is one.
  std::string pd_incident;  // PagerDuty incident id
  std::int64_t pd_number = 0;
  std::string pd_url;
  std::vector<std::string> pd_assignees;  // names, as PagerDuty assigns them now
  // Applied event ids -> when each was received (TimePoint{} for ids read from
  // a state file of a version that kept no times): PagerDuty retries a
  // delivery for up to 48 hours, so ids are kept that long (see engine_pagerduty.cpp).
  std::map<std::string, TimePoint> pd_events;
  TimePoint pd_status_at{};  // when PagerDuty last changed the status
  // Who acknowledged and who took over, with when: what responder-shift
  // tracking needs (names stay out of the markdown's narrative).
  std::vector<std::pair<TimePoint, std::string>> pd_role_log;
};

// Identity of an alert group: the receiver and the group labels, never the
// groupKey text (HA peers may format it differently). 16 hex digits.
std::string group_id(const AlertGroup& group);

inline constexpr const char* k_state_dir = ".calloutd/groups";
// Where group `group_id`'s state is written: `.calloutd/groups/<xx>/<id>.json`,
// `xx` the first two hex digits of the id's hash part (`71995bb45926aa1b` ->
// `71/`, `pd-bce23533d6573672` -> `bc/`), so that a commit rewrites one small
// shard's tree, not one with an entry per group ever seen.
std::string state_path(const std::string& group_id);
// Where versions before the shards wrote it: `.calloutd/groups/<id>.json`.
// Still read (the sharded file wins when both exist); moved by Engine::tidy_state.
std::string flat_state_path(const std::string& group_id);
// The group id of a state file's path in either layout; nullopt for any
// other path (a file that is not a state file, a deeper folder).
std::optional<std::string> state_id_of_path(const std::string& path);

// Whether the state of a group resolved at `s.resolved_at` may be removed at
// `now`: resolved, and longer ago than `keep` (see prune_retention).
bool prunable(const GroupState& s, TimePoint now, std::chrono::seconds keep);
// How long a resolved group's state is kept: the longest of the reopen
// window (a re-fire within it reopens the callout), PagerDuty's 48-hour
// redelivery window (pd_events) and `retention` (repository.state_retention);
// none (kept forever) when `retention` is none.
std::optional<std::chrono::seconds> prune_retention(std::chrono::seconds reopen_window,
                                                    std::optional<std::chrono::seconds> retention);
inline constexpr std::chrono::hours k_pagerduty_redelivery{48};

std::string serialize_state(const GroupState& state);
// nullopt when `text` is not a state file this version understands.
std::optional<GroupState> parse_state(const std::string& text);

}  // namespace calloutd
