#include "daemon/base/duration.hpp"

#include <re2/re2.h>

namespace calloutd {

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  static const RE2 k_whole(R"(((\d+)(w|d|h|m|s))+)");
  static const RE2 k_part(R"((\d+)(w|d|h|m|s))");
  if (!RE2::FullMatch(text, k_whole)) {
    return Error{"invalid duration \"" + std::string(text) + "\" (use e.g. 90s, 15m, 1h30m)"};
  }
  re2::StringPiece rest(text.data(), text.size());
  long long count = 0;
  std::string unit;
  std::chrono::seconds total{0};
  while (RE2::Consume(&rest, k_part, &count, &unit)) {
    long long scale = unit == "w"   ? 604800
                      : unit == "d" ? 86400
                      : unit == "h" ? 3600
                      : unit == "m" ? 60
                                    : 1;
    total += std::chrono::seconds{count * scale};
  }
  return total;
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
