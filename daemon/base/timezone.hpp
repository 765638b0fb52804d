// Time zones from the system's tz database (/usr/share/zoneinfo, Debian's
// tzdata), read by Howard Hinnant's date/tz (GCC 12's libstdc++ has no
// std::chrono::tzdb; date/tz is what it came from). Debian builds date/tz
// to read the compiled TZif files, whose tables end in 2037; for the years
// after, the POSIX TZ rule in each file's footer applies, which date/tz 3.0.1
// ignores, so PosixTz evaluates it. Only what the on-call rota needs: UTC
// offset at an instant, and local civil time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/base/result.hpp"
#include "daemon/base/timefmt.hpp"

namespace calloutd {

// A POSIX TZ rule ("GMT0BST,M3.5.0/1,M10.5.0"): a standard offset and,
// optionally, a daylight offset with the local times it starts and ends.
struct PosixTz {
  std::chrono::seconds std_offset{0};  // east of UTC (the string says west)
  bool has_dst = false;
  std::chrono::seconds dst_offset{0};
  struct Date {
    char kind = 'M';  // 'M' month.week.day, 'J' Julian day 1-365 (no Feb 29), 'n' day 0-365
    int month = 0, week = 0, weekday = 0, day = 0;
    std::chrono::seconds time{2 * 3600};  // local time of day it happens (may be < 0 or > 24 h)
  };
  Date start, end;

  static Result<PosixTz> parse(std::string_view text);
  std::chrono::seconds offset_at(std::int64_t unix_seconds) const;
};

// A zone of the tz database. Copies share the loaded rules; safe to use from
// several threads.
class TimeZone {
 public:
  // The zone `name` ("Europe/London"); an error names it if the database
  // has no such zone or its file cannot be read.
  static Result<TimeZone> load(const std::string& name);
  static TimeZone utc();

  const std::string& name() const { return m_name; }
  // Offset of local time from UTC at `t` (+3600 s for BST).
  std::chrono::seconds utc_offset(TimePoint t) const;
  // The local wall-clock time at `t`, as a time point whose "UTC" is local time.
  std::chrono::local_seconds to_local(TimePoint t) const;

 private:
  struct Rules;
  std::string m_name;
  std::shared_ptr<const Rules> m_rules;  // null for UTC
};

}  // namespace calloutd
