// The README.md index at the root of the callouts repository: open
// incidents, postmortems still pending, and the recent callouts of each
// technology. calloutd owns only the part between its two marker comments;
// whatever people write around it stays as they wrote it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "daemon/state/group_state.hpp"

namespace calloutd {

// The one definition of a pending postmortem, for the index's "Postmortems
// pending" and calloutd_postmortems_pending alike: its incident is resolved
// and its Status is not published. A postmortem of an active incident is
// still being written with the incident, so it is not pending yet.
inline bool postmortem_pending(bool incident_resolved, std::string_view postmortem_status) {
  return incident_resolved && postmortem_status != "published";
}

// The ids of the states the index must keep listing, however old: open
// incidents and pending postmortems (the team's to-do list). Pruning keeps
// these; a callout past the retention leaves only the recent list.
std::set<std::string> index_kept(const std::map<std::string, GroupState>& states);

// The marked section for `states` (by state id), newest first.
std::string index_section(const std::map<std::string, GroupState>& states);

// `readme` (nullopt: there is none yet) with its marked section replaced by
// `section`, or the section appended when people removed the markers.
std::string with_index(const std::optional<std::string>& readme, const std::string& section);

}  // namespace calloutd
