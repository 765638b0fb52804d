// The Alertmanager webhook receiver: raw body in, a validated AlertGroup or a
// precise error out. Pure: no I/O, no clock, no git.
#pragma once

#include <string_view>

#include "daemon/base/result.hpp"
#include "receivers/event.hpp"

namespace calloutd::receivers {

// Parses an Alertmanager webhook body (`version` "4"). Errors name the field:
// `alerts[1].startsAt: "yesterday" is not an RFC 3339 time`.
Result<AlertGroup> parse_alertmanager(std::string_view body);

// Alertmanager's fingerprint is absent before 0.19: derive a stable one from
// the sorted labels (16 hex digits of SHA-256).
std::string labels_fingerprint(const Labels& labels);

// What the engine would see of a notification, hashed (SHA-256 hex): every
// field but externalURL, which differs between the peers of an HA pair that
// otherwise send the same notification. Equal keys, equal effect.
std::string content_key(const AlertGroup& group);

}  // namespace calloutd::receivers
