// The README.md index at the root of the callouts repository: open
// incidents, postmortems still pending, and the recent callouts of each
// technology. calloutd owns only the part between its two marker comments;
// whatever people write around it stays as they wrote it.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "daemon/state/group_state.hpp"

namespace calloutd {

// The marked section for `states` (by state id), newest first.
std::string index_section(const std::map<std::string, GroupState>& states);

// `readme` (nullopt: there is none yet) with its marked section replaced by
// `section`, or the section appended when people removed the markers.
std::string with_index(const std::optional<std::string>& readme, const std::string& section);

}  // namespace calloutd
