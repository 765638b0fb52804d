// The incidents API's request bodies (POST /api/v1/incidents...), parsed and
// checked before anything is journaled: an error names the problem for the
// 400. Pure functions, fuzzed like the receivers.
#pragma once

#include <string>
#include <string_view>

#include "daemon/base/result.hpp"
#include "daemon/base/timefmt.hpp"
#include "receivers/event.hpp"

namespace calloutd {

// {"action": "join"|"leave"|"handover", "role", "person", "to", "at"} for
// `incident_id`; "at", when given, is an RFC 3339 time not after `now`.
Result<RoleRequest> parse_role_request(std::string_view body, const std::string& incident_id,
                                       TimePoint now);

// {"technology", "issue", "severity": "MPI"|"HPI", "summary"}, reported `now`.
Result<ManualIncident> parse_manual_incident(std::string_view body, TimePoint now);

// {"status": "draft" | "in review" | "published"}: the status asked for.
Result<std::string> parse_postmortem_status(std::string_view body);

}  // namespace calloutd
