// Prometheus-style durations (`90s`, `15m`, `1h30m`, `2d`), as used in the config.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "daemon/base/result.hpp"

namespace calloutd {

Result<std::chrono::seconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::seconds d);

}  // namespace calloutd
