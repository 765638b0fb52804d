#include "daemon/base/timefmt.hpp"

#include <re2/re2.h>

#include <ctime>

namespace calloutd {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

// Years the nanosecond system clock can hold with room to spare.
constexpr int k_min_year = 1971;
constexpr int k_max_year = 2200;

std::optional<TimePoint> make_time(int y, int mo, int d, int h, int mi, int s) {
  if (y < k_min_year || y > k_max_year) {
    return std::nullopt;
  }
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                     std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) {
    return std::nullopt;
  }
  return TimePoint{sys_days{ymd}} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s};
}

std::string pad(long value, int width) {
  std::string s = std::to_string(value);
  while (static_cast<int>(s.size()) < width) {
    s.insert(s.begin(), '0');
  }
  return s;
}

struct Parts {
  year_month_day ymd;
  std::chrono::hh_mm_ss<std::chrono::milliseconds> hms;
};

Parts split(TimePoint t) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  auto day = std::chrono::floor<days>(ms);
  return {year_month_day{day}, std::chrono::hh_mm_ss{ms - day}};
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  static const RE2 k_pattern(
      R"((\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2}))");
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::string frac, zone;
  if (!RE2::FullMatch(text, k_pattern, &y, &mo, &d, &h, &mi, &s, &frac, &zone)) {
    return std::nullopt;
  }
  if (y < k_min_year && y >= 1) {
    // Go's zero time (0001-01-01, Alertmanager's "no endsAt") and anything
    // before the epoch mean "unset"; the clock cannot hold them anyway.
    return TimePoint{};
  }
  auto t = make_time(y, mo, d, h, mi, s);
  if (!t) {
    return std::nullopt;
  }
  if (!frac.empty()) {
    frac.resize(9, '0');
    *t +=
        std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds{std::stol(frac)});
  }
  if (zone != "Z" && zone != "z") {
    int sign = zone[0] == '-' ? -1 : 1;
    auto offset = std::chrono::hours{std::stoi(zone.substr(1, 2))} +
                  std::chrono::minutes{std::stoi(zone.substr(4, 2))};
    *t -= sign * offset;
  }
  return t;
}

std::string format_rfc3339_millis(TimePoint t) {
  auto [ymd, hms] = split(t);
  return pad(static_cast<int>(ymd.year()), 4) + "-" + pad(static_cast<unsigned>(ymd.month()), 2) +
         "-" + pad(static_cast<unsigned>(ymd.day()), 2) + "T" + pad(hms.hours().count(), 2) + ":" +
         pad(hms.minutes().count(), 2) + ":" + pad(hms.seconds().count(), 2) + "." +
         pad(hms.subseconds().count(), 3) + "Z";
}

std::string format_utc(TimePoint t) {
  auto [ymd, hms] = split(t);
  return format_date(t) + " " + pad(hms.hours().count(), 2) + ":" + pad(hms.minutes().count(), 2) +
         ":" + pad(hms.seconds().count(), 2) + " UTC";
}

std::string format_date(TimePoint t) {
  auto ymd = split(t).ymd;
  return pad(static_cast<int>(ymd.year()), 4) + "-" + pad(static_cast<unsigned>(ymd.month()), 2) +
         "-" + pad(static_cast<unsigned>(ymd.day()), 2);
}

std::optional<TimePoint> parse_timeline_time(std::string_view line) {
  static const RE2 k_pattern(R"((\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?\b.*)");
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  std::string sec;
  if (!RE2::FullMatch(line, k_pattern, &y, &mo, &d, &h, &mi, &sec)) {
    return std::nullopt;
  }
  return make_time(y, mo, d, h, mi, sec.empty() ? 0 : std::stoi(sec));
}

}  // namespace calloutd
