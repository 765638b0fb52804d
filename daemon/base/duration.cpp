#include "daemon/base/duration.hpp"

#include <re2/re2.h>

#include <charconv>
#include <cstdint>
#include <limits>

namespace calloutd {
namespace {

std::int64_t unit_seconds(char unit) {
  switch (unit) {
    case 'w':
      return 604800;
    case 'd':
      return 86400;
    case 'h':
      return 3600;
    case 'm':
      return 60;
    default:
      return 1;
  }
}

Result<std::chrono::seconds> too_long(std::string_view text) {
  return Error{"duration \"" + std::string(text) + "\" is longer than " +
               std::string(k_longest_duration_text) + ", the most a setting takes"};
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  static const RE2 k_whole(R"(((\d+)(w|d|h|m|s))+)");
  if (!RE2::FullMatch(text, k_whole)) {
    return Error{"invalid duration \"" + std::string(text) + "\" (use e.g. 90s, 15m, 1h30m)"};
  }
  // Each part checked on its own, so that no sum or product can wrap.
  const std::int64_t longest = k_longest_duration.count();
  std::int64_t total = 0;
  const char* at = text.data();
  const char* end = text.data() + text.size();
  while (at < end) {
    std::uint64_t count = 0;
    auto [unit, ec] = std::from_chars(at, end, count);
    const std::int64_t scale = unit_seconds(*unit);
    if (ec != std::errc{} || count > static_cast<std::uint64_t>(longest / scale)) {
      return too_long(text);  // digits only (the pattern held): too large to read
    }
    total += static_cast<std::int64_t>(count) * scale;
    if (total > longest) {
      return too_long(text);
    }
    at = unit + 1;
  }
  return std::chrono::seconds{total};
}

std::string format_duration(std::chrono::seconds d) {
  long long s = d.count();
  std::string out;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0 || out.empty()) {
    out += std::to_string(s) + "s";
  }
  return out;
}

}  // namespace calloutd
