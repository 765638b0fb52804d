// Time parsing and formatting in UTC: RFC 3339 from webhooks, and the
// `YYYY-MM-DD HH:MM:SS UTC` form the write-ups use.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace calloutd {

using TimePoint = std::chrono::system_clock::time_point;

// Parses RFC 3339 (`2026-11-22T03:45:52.038Z`, offsets such as `+08:00`, 0-9
// fractional digits). Go's zero time (`0001-01-01T00:00:00Z`, Alertmanager's
// endsAt of a firing alert) and other times before 1971 give TimePoint{}
// ("unset"). nullopt when `text` is not such a time or lies after 2200.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

std::string format_rfc3339_millis(TimePoint t);  // 2026-11-22T03:45:52.038Z
std::string format_utc(TimePoint t);             // 2026-11-22 03:45:52 UTC
std::string format_date(TimePoint t);            // 2026-11-22

// Parses the timestamp that starts a timeline entry: `YYYY-MM-DD HH:MM[:SS]`
// (with or without ` UTC`). nullopt when the line does not start with one.
std::optional<TimePoint> parse_timeline_time(std::string_view line);

}  // namespace calloutd
