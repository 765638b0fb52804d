// Prometheus-style durations (`90s`, `15m`, `1h30m`, `2d`), as used in the config.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "daemon/base/result.hpp"

namespace calloutd {

// The longest duration a setting takes: 10 years (of 365.25 days). Longer is
// refused rather than wrapped (time points count nanoseconds: 292 years).
inline constexpr std::chrono::seconds k_longest_duration{3652 * 86400 + 12 * 3600};
inline constexpr std::string_view k_longest_duration_text = "10 years (3652d12h)";

// Refuses text that is not a duration, and one longer than k_longest_duration.
Result<std::chrono::seconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::seconds d);

}  // namespace calloutd
