// Callouts opened by hand (calloutd's POST /api/v1/incidents, calloutctl
// new): their identity and first values, shared by the engine and by
// calloutctl when it writes straight into a repository.
#pragma once

#include <string>

#include "daemon/writeup/render.hpp"
#include "receivers/event.hpp"

namespace calloutd {

// "man-" and 10 hex digits of SHA-256 over technology, issue and time: the
// same report replayed from the journal is the same incident.
std::string manual_incident_id(const ManualIncident& m);

// The callout's first values (the folder's date and the timeline from `m.at`).
CalloutView manual_view(const ManualIncident& m, const std::string& incident_id);

}  // namespace calloutd
