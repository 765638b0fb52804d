// TZif (RFC 8536) and POSIX TZ rules, read for the on-call rota.
#include "daemon/base/timezone.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace calloutd {

namespace {

using std::chrono::seconds;

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

std::int64_t be(std::string_view b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
  }
  if (bytes == 4) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  }
  return static_cast<std::int64_t>(v);
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

Result<TimeZone> TimeZone::load(const std::string& name, const std::string& dir) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) {
    return Error{"bad time zone name \"" + name + "\""};
  }
  std::ifstream in(dir + "/" + name, std::ios::binary);
  if (!in) {
    return Error{"unknown time zone \"" + name + "\" (no " + dir + "/" + name +
                 "; is the tzdata package installed?)"};
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return parse(bytes.str(), name);
}

Result<TimeZone> TimeZone::parse(std::string_view b, std::string name) {
  auto bad = [&](const std::string& why) { return Error{"time zone \"" + name + "\": " + why}; };
  constexpr std::size_t header = 44;
  if (b.size() < header || b.substr(0, 4) != "TZif") {
    return bad("not a TZif file");
  }
  if (b[4] < '2') {
    return bad("TZif version 1 files are not supported");
  }
  auto counts = [&](std::size_t at, std::int64_t out[6]) {
    for (int i = 0; i < 6; ++i) {
      out[i] = be(b, at + 20 + static_cast<std::size_t>(i) * 4, 4);
      if (out[i] < 0 || out[i] > 100000) {
        return false;
      }
    }
    return true;
  };
  std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!counts(0, c)) {
    return bad("bad header");
  }
  auto block_size = [&](int time_bytes) {
    return static_cast<std::size_t>(c[3] * time_bytes + c[3] + c[4] * 6 + c[5] +
                                    c[2] * (time_bytes + 4) + c[1] + c[0]);
  };
  std::size_t v2 = header + block_size(4);
  if (b.size() < v2 + header || b.substr(v2, 4) != "TZif" || !counts(v2, c)) {
    return bad("truncated file");
  }
  std::size_t at = v2 + header;
  if (b.size() < at + block_size(8) || c[4] < 1) {
    return bad("truncated file");
  }
  TimeZone tz;
  tz.m_name = std::move(name);
  for (std::int64_t i = 0; i < c[3]; ++i) {
    tz.m_transitions.push_back(be(b, at + static_cast<std::size_t>(i) * 8, 8));
  }
  at += static_cast<std::size_t>(c[3]) * 8;
  for (std::int64_t i = 0; i < c[3]; ++i) {
    auto type = static_cast<std::uint8_t>(b[at++]);
    if (type >= c[4]) {
      return bad("transition to an unknown type");
    }
    tz.m_type_of.push_back(type);
  }
  for (std::int64_t i = 0; i < c[4]; ++i, at += 6) {
    tz.m_types.push_back({static_cast<std::int32_t>(be(b, at, 4)), b[at + 4] != 0});
  }
  at += static_cast<std::size_t>(c[5] + c[2] * 12 + c[1] + c[0]);
  if (at < b.size() && b[at] == '\n') {
    auto close = b.find('\n', at + 1);
    auto footer = b.substr(at + 1, close == std::string_view::npos ? 0 : close - at - 1);
    if (!footer.empty()) {
      auto rule = PosixTz::parse(footer);
      if (!rule) {
        return bad(rule.error());
      }
      tz.m_footer = *rule;
      tz.m_has_footer = true;
    }
  }
  return tz;
}

TimeZone TimeZone::utc() {
  TimeZone tz;
  tz.m_name = "UTC";
  tz.m_types.push_back({0, false});
  return tz;
}

std::chrono::seconds TimeZone::utc_offset(TimePoint t) const {
  auto s = std::chrono::floor<seconds>(t).time_since_epoch().count();
  auto after = std::upper_bound(m_transitions.begin(), m_transitions.end(), s);
  if (after == m_transitions.end() && m_has_footer) {
    return m_footer.offset_at(s);
  }
  if (after == m_transitions.begin()) {
    return seconds{m_types.front().offset};  // before the first transition: type 0
  }
  auto i = static_cast<std::size_t>(after - m_transitions.begin() - 1);
  return seconds{m_types[m_type_of[i]].offset};
}

std::chrono::local_seconds TimeZone::to_local(TimePoint t) const {
  auto s = std::chrono::floor<seconds>(t);
  return std::chrono::local_seconds{s.time_since_epoch() + utc_offset(t)};
}

}  // namespace calloutd
