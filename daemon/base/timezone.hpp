// Time zones from the system's tz database (TZif files under
// /usr/share/zoneinfo, Debian's tzdata). GCC 12's libstdc++ has no
// std::chrono::tzdb, so this reads the compiled files itself: the
// transitions they list, then the POSIX TZ rule in their footer for times
// after the last one. Only what the on-call rota needs: UTC offset at an
// instant, and local civil time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

class TimeZone {
 public:
  // Reads `<dir>/<name>` ("Europe/London"). Names with ".." or a leading "/" are refused.
  static Result<TimeZone> load(const std::string& name,
                               const std::string& dir = "/usr/share/zoneinfo");
  // From the bytes of a TZif file (version 2 or later).
  static Result<TimeZone> parse(std::string_view tzif, std::string name);
  static TimeZone utc();

  const std::string& name() const { return m_name; }
  // Offset of local time from UTC at `t` (+3600 s for BST).
  std::chrono::seconds utc_offset(TimePoint t) const;
  // The local wall-clock time at `t`, as a time point whose "UTC" is local time.
  std::chrono::local_seconds to_local(TimePoint t) const;

 private:
  struct Type {
    std::int32_t offset = 0;
    bool dst = false;
  };
  std::string m_name;
  std::vector<std::int64_t> m_transitions;  // unix seconds, ascending
  std::vector<std::uint8_t> m_type_of;      // type index per transition
  std::vector<Type> m_types;
  bool m_has_footer = false;
  PosixTz m_footer;
};

}  // namespace calloutd
