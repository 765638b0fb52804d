// The PagerDuty V3 webhook receiver: signature verification and parsing.
// Pure: raw body and headers in, a verified PagerDutyEvent or a precise error out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/result.hpp"
#include "receivers/event.hpp"

namespace calloutd::receivers {

// True when `header` (X-PagerDuty-Signature: `v1=<hex>[,v1=<hex>...]`) holds
// an HMAC-SHA256 of `body` under one of `secrets` (several during rotation).
// Compared in constant time.
bool verify_pagerduty_signature(std::string_view body, std::string_view header,
                                const std::vector<std::string>& secrets);

// Parses a V3 envelope `{"event": {...}}`. Any event type parses (those
// calloutd does not act on are acknowledged and ignored by the caller); an
// error names the field: `event.occurred_at: "soon" is not an RFC 3339 time`.
Result<PagerDutyEvent> parse_pagerduty(std::string_view body);

}  // namespace calloutd::receivers
