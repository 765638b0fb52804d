// The incidents API's request bodies (POST /api/v1/incidents...) and their
// journal records: a body is parsed and checked before anything is journaled
// (an error names the problem for the 400), the payload is journaled as a
// record (source "api"), and the record is parsed back on replay and after a
// rebase. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "daemon/base/result.hpp"
#include "daemon/base/timefmt.hpp"
#include "receivers/event.hpp"

namespace calloutd::receivers {

// The journal's source name for the API's requests.
inline constexpr const char* k_api_source = "api";

// {"action": "join"|"leave"|"handover", "role", "person", "to", "at"} for
// `incident_id`; "at", when given, is an RFC 3339 time not after `now`
// (kept to the millisecond, as the journal keeps it). "Incident Lead" is the
// template's "Current Incident Lead".
Result<RoleRequest> parse_role_request(std::string_view body, const std::string& incident_id,
                                       TimePoint now);

// {"technology", "issue", "severity": "MPI"|"HPI", "summary"}, reported `now`
// (kept to the millisecond, so that the incident's id made from it is the
// one a replay makes).
Result<ManualIncident> parse_manual_incident(std::string_view body, TimePoint now);

// {"status": "..."}: the status asked for `incident_id`'s postmortem. Whether
// the postmortem can move there is the engine's to say.
Result<PostmortemStatusChange> parse_postmortem_status(std::string_view body,
                                                       const std::string& incident_id);

// {"note": "..."} (optional; an empty body is {}): `incident_id` resolved
// by hand. The note is kept as one line (whitespace collapsed, hidden
// controls removed) of at most k_max_note_bytes bytes.
Result<ResolveRequest> parse_resolve_request(std::string_view body, const std::string& incident_id);

// {"person": "..."} (optional; an empty body is {}): `incident_id` acknowledged.
Result<AckRequest> parse_ack_request(std::string_view body, const std::string& incident_id);

// The longest note a resolution takes: a sentence for the timeline, not a report.
inline constexpr std::size_t k_max_note_bytes = 500;

// The journal record of an accepted request: a JSON object whose "kind" is
// roles, incident, postmortem, resolve or ack.
std::string api_record(const RoleRequest& request);
std::string api_record(const ManualIncident& incident);
std::string api_record(const PostmortemStatusChange& change);
std::string api_record(const ResolveRequest& request);
std::string api_record(const AckRequest& request);

// A journal record back into its payload (RoleRequest, ManualIncident,
// PostmortemStatusChange, ResolveRequest or AckRequest), held to the same
// rules as the body it came from.
// A record without "kind" is a postmortem status change (as written before
// kinds were named). Errors name the field: `person: missing or not a string`.
Result<Payload> parse_api_record(std::string_view record);

}  // namespace calloutd::receivers
