// Time zones: date/tz's tables, then the POSIX TZ rules of the TZif footers.
#include "daemon/base/timezone.hpp"

#include <date/tz.h>

#include <fstream>
#include <iterator>
#include <optional>

namespace calloutd {

namespace {

using std::chrono::seconds;

// Where Debian's date/tz (built with USE_OS_TZDB) reads the database.
const std::string k_zoneinfo = "/usr/share/zoneinfo";

// A cursor over the TZ string with the small grammar of POSIX section 8.3.
class TzReader {
 public:
  explicit TzReader(std::string_view s) : m_s(s) {}
  bool done() const { return m_i >= m_s.size(); }
  char peek() const { return done() ? '\0' : m_s[m_i]; }
  bool eat(char c) {
    if (peek() != c) {
      return false;
    }
    ++m_i;
    return true;
  }
  bool name() {
    if (eat('<')) {
      auto close = m_s.find('>', m_i);
      if (close == std::string_view::npos) {
        return false;
      }
      m_i = close + 1;
      return true;
    }
    std::size_t start = m_i;
    while (!done() && std::isalpha(static_cast<unsigned char>(peek())) != 0) {
      ++m_i;
    }
    return m_i - start >= 3;
  }
  bool number(int& out, int max) {
    if (std::isdigit(static_cast<unsigned char>(peek())) == 0) {
      return false;
    }
    out = 0;
    while (std::isdigit(static_cast<unsigned char>(peek())) != 0) {
      out = out * 10 + (m_s[m_i++] - '0');
      if (out > max) {
        return false;
      }
    }
    return true;
  }
  // [+-]hh[:mm[:ss]], up to `max_hours`.
  bool clock(seconds& out, int max_hours) {
    int sign = eat('-') ? -1 : (eat('+'), 1);
    int h = 0, m = 0, s = 0;
    if (!number(h, max_hours)) {
      return false;
    }
    if (eat(':') && (!number(m, 59) || (eat(':') && !number(s, 59)))) {
      return false;
    }
    out = seconds{sign * (h * 3600 + m * 60 + s)};
    return true;
  }
  bool date(PosixTz::Date& d) {
    if (eat('M')) {
      d.kind = 'M';
      if (!number(d.month, 12) || d.month < 1 || !eat('.') || !number(d.week, 5) || d.week < 1 ||
          !eat('.') || !number(d.weekday, 6)) {
        return false;
      }
    } else if (eat('J')) {
      d.kind = 'J';
      if (!number(d.day, 365) || d.day < 1) {
        return false;
      }
    } else {
      d.kind = 'n';
      if (!number(d.day, 365)) {
        return false;
      }
    }
    return !eat('/') || clock(d.time, 167);
  }

 private:
  std::string_view m_s;
  std::size_t m_i = 0;
};

// The day `d` falls on in `year`.
std::chrono::sys_days day_of(const PosixTz::Date& d, std::chrono::year year) {
  using namespace std::chrono;
  if (d.kind == 'M') {
    auto m = month{static_cast<unsigned>(d.month)};
    auto wd = weekday{static_cast<unsigned>(d.weekday)};
    if (d.week == 5) {
      return sys_days{year / m / wd[last]};
    }
    return sys_days{year / m / wd[static_cast<unsigned>(d.week)]};
  }
  sys_days jan1{year / January / 1};
  if (d.kind == 'J') {
    // 1-365, February 29 never counted.
    int extra = year.is_leap() && d.day >= 60 ? 1 : 0;
    return jan1 + days{d.day - 1 + extra};
  }
  return jan1 + days{d.day};
}

// The POSIX TZ rule in the footer of the TZif file at `path`, "" if none:
// a version 2+ file ends with it between two newlines (RFC 8536 section 3.3).
std::string footer_rule(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (bytes.size() < 6 || bytes.compare(0, 4, "TZif") != 0 || bytes[4] < '2' ||
      bytes.back() != '\n') {
    return "";
  }
  auto open = bytes.rfind('\n', bytes.size() - 2);
  return open == std::string::npos ? "" : bytes.substr(open + 1, bytes.size() - open - 2);
}

}  // namespace

Result<PosixTz> PosixTz::parse(std::string_view text) {
  PosixTz tz;
  TzReader r(text);
  seconds west{0};
  if (!r.name() || !r.clock(west, 24)) {
    return Error{"bad standard time in TZ rule \"" + std::string(text) + "\""};
  }
  tz.std_offset = -west;
  if (r.done()) {
    return tz;
  }
  if (!r.name()) {
    return Error{"bad daylight time name in TZ rule \"" + std::string(text) + "\""};
  }
  tz.has_dst = true;
  tz.dst_offset = tz.std_offset + seconds{3600};
  char c = r.peek();
  if (c != ',' && c != '\0') {
    if (!r.clock(west, 24)) {
      return Error{"bad daylight offset in TZ rule \"" + std::string(text) + "\""};
    }
    tz.dst_offset = -west;
  }
  if (r.done()) {
    // No rule: the US rule POSIX implementations assume.
    tz.start = Date{'M', 3, 2, 0, 0, seconds{7200}};
    tz.end = Date{'M', 11, 1, 0, 0, seconds{7200}};
    return tz;
  }
  if (!r.eat(',') || !r.date(tz.start) || !r.eat(',') || !r.date(tz.end) || !r.done()) {
    return Error{"bad daylight rule in TZ rule \"" + std::string(text) + "\""};
  }
  return tz;
}

std::chrono::seconds PosixTz::offset_at(std::int64_t unix_seconds) const {
  using namespace std::chrono;
  if (!has_dst) {
    return std_offset;
  }
  sys_seconds t{seconds{unix_seconds}};
  auto local_day = floor<days>(t + std_offset);
  auto y = year_month_day{local_day}.year();
  sys_seconds begins{day_of(start, y) + start.time - std_offset};
  sys_seconds ends{day_of(end, y) + end.time - dst_offset};
  bool dst = begins < ends ? (t >= begins && t < ends)   // northern hemisphere
                           : (t >= begins || t < ends);  // southern: over new year
  return dst ? dst_offset : std_offset;
}

// date/tz's zone with its table of transitions, and the footer's rule for
// the instants after the table's last transition.
struct TimeZone::Rules {
  const date::time_zone* table = nullptr;
  std::chrono::sys_seconds table_ends{};
  std::optional<PosixTz> footer;
};

Result<TimeZone> TimeZone::load(const std::string& name) {
  auto path = k_zoneinfo + "/" + name;
  auto rules = std::make_shared<Rules>();
  try {
    // Only names in the database's list: a path ("../x", "/etc/x") never is.
    rules->table = date::locate_zone(name);
  } catch (const std::exception&) {
    return Error{"unknown time zone \"" + name + "\" (no " + path +
                 "; is the tzdata package installed?)"};
  }
  try {
    // Reads the file now rather than on first use; the interval that holds
    // a far future instant begins at the table's last transition.
    rules->table_ends = rules->table->get_info(date::sys_days{date::year{9999} / 1 / 1}).begin;
  } catch (const std::exception& e) {
    return Error{"time zone \"" + name + "\": cannot read " + path + ": " + e.what()};
  }
  if (auto text = footer_rule(path); !text.empty()) {
    auto rule = PosixTz::parse(text);
    if (!rule) {
      return Error{"time zone \"" + name + "\": " + rule.error()};
    }
    rules->footer = *rule;
  }
  TimeZone tz;
  tz.m_name = name;
  tz.m_rules = std::move(rules);
  return tz;
}

TimeZone TimeZone::utc() {
  TimeZone tz;
  tz.m_name = "UTC";
  return tz;
}

std::chrono::seconds TimeZone::utc_offset(TimePoint t) const {
  if (!m_rules) {
    return seconds{0};
  }
  auto s = std::chrono::floor<seconds>(t);
  if (m_rules->footer && s > m_rules->table_ends) {
    return m_rules->footer->offset_at(s.time_since_epoch().count());
  }
  return m_rules->table->get_info(s).offset;
}

std::chrono::local_seconds TimeZone::to_local(TimePoint t) const {
  auto s = std::chrono::floor<seconds>(t);
  return std::chrono::local_seconds{s.time_since_epoch() + utc_offset(t)};
}

}  // namespace calloutd
