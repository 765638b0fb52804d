// People's edits as journal records: what the scanner observed in a file
// (FileObservation), written to the journal as JSON and parsed back on replay
// and after a rebase, like a webhook body. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "daemon/base/result.hpp"
#include "receivers/event.hpp"

namespace calloutd::receivers {

// The journal's source name for observations.
inline constexpr const char* k_observation_source = "file";

std::string observation_record(const FileObservation& observation);

// Errors name the field: `commit: missing`.
Result<FileObservation> parse_observation(std::string_view body);

}  // namespace calloutd::receivers
