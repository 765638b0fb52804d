#include "daemon/state/shifts.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace calloutd {

void ShiftBook::join(const std::string& person, TimePoint at) {
  auto& s = m_shifts[person];
  bool continues = s.holds > 0 || (s.idle_since && at - *s.idle_since <= m_short_break);
  if (!continues) {
    s = Shift{at, 0, std::nullopt, false, false};
  }
  s.start = std::min(s.start, at);
  ++s.holds;
  s.idle_since.reset();
}

void ShiftBook::started_by(const std::string& person, TimePoint at) {
  auto it = m_shifts.find(person);
  if (it == m_shifts.end()) {
    join(person, at);
    return;
  }
  it->second.start = std::min(it->second.start, at);
}

void ShiftBook::leave(const std::string& person, TimePoint at) {
  auto it = m_shifts.find(person);
  if (it == m_shifts.end() || it->second.holds == 0) {
    return;
  }
  if (--it->second.holds == 0) {
    it->second.idle_since = at;
  }
}

bool ShiftBook::on_shift(const std::string& person, TimePoint now) const {
  auto it = m_shifts.find(person);
  if (it == m_shifts.end()) {
    return false;
  }
  const auto& s = it->second;
  return s.holds > 0 || (s.idle_since && now - *s.idle_since <= m_short_break);
}

std::chrono::seconds ShiftBook::worked(const std::string& person, TimePoint now) const {
  if (!on_shift(person, now)) {
    return std::chrono::seconds{0};
  }
  return std::chrono::duration_cast<std::chrono::seconds>(now - m_shifts.at(person).start);
}

std::size_t ShiftBook::forget_idle_before(TimePoint cutoff) {
  return std::erase_if(m_shifts, [&](const auto& entry) {
    const Shift& s = entry.second;
    // Past the short break too, whatever the cutoff: only shifts that are over.
    return s.holds == 0 && s.idle_since && *s.idle_since < cutoff &&
           *s.idle_since + m_short_break < cutoff;
  });
}

Shift* ShiftBook::find(const std::string& person) {
  auto it = m_shifts.find(person);
  return it == m_shifts.end() ? nullptr : &it->second;
}

std::string ShiftBook::serialize() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [person, s] : m_shifts) {
    j[person] = {{"start", format_rfc3339_millis(s.start)},
                 {"holds", s.holds},
                 {"idle_since", s.idle_since ? format_rfc3339_millis(*s.idle_since) : ""},
                 {"warned", s.warned},
                 {"breached", s.breached}};
  }
  return j.dump(2) + "\n";
}

ShiftBook ShiftBook::parse(const std::string& text, std::chrono::seconds short_break) {
  ShiftBook book(short_break);
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) {
    return book;
  }
  for (const auto& [person, s] : j.items()) {
    Shift shift;
    shift.start = parse_rfc3339(s.value("start", "")).value_or(TimePoint{});
    shift.holds = s.value("holds", 0);
    auto idle = s.value("idle_since", std::string{});
    if (!idle.empty()) {
      shift.idle_since = parse_rfc3339(idle);
    }
    shift.warned = s.value("warned", false);
    shift.breached = s.value("breached", false);
    book.m_shifts[person] = shift;
  }
  return book;
}

}  // namespace calloutd
