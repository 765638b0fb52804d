// Responder shifts: how long each person has worked without a real break,
// across every incident and role they hold. A short break (config, default
// 15 min) does not reset the clock; a longer one ends the shift. Pure logic:
// times come from the caller.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "daemon/base/timefmt.hpp"

namespace calloutd {

struct Shift {
  TimePoint start{};
  int holds = 0;                        // roles held now, across incidents
  std::optional<TimePoint> idle_since;  // when the last role was left
  bool warned = false;                  // the 4-hour warning was given this shift
  bool breached = false;                // the limit was reached this shift
};

class ShiftBook {
 public:
  explicit ShiftBook(std::chrono::seconds short_break = std::chrono::minutes{15})
      : m_short_break(short_break) {}

  // `person` takes a role at `at` (a shift starts unless one is still on; a
  // shift on since later than `at` starts at `at` instead).
  void join(const std::string& person, TimePoint at);
  // `person` was already working at `at` (a start given late, or back-dated):
  // a shift on now starts no later than `at`; otherwise one starts at `at`.
  void started_by(const std::string& person, TimePoint at);
  // `person` leaves a role at `at`.
  void leave(const std::string& person, TimePoint at);

  // Continuous work time at `now`: from the shift's start to now while any
  // role is held or the break is short, else 0 (the shift is over).
  std::chrono::seconds worked(const std::string& person, TimePoint now) const;
  bool on_shift(const std::string& person, TimePoint now) const;

  // Drops the people who hold no role and have been idle since before
  // `cutoff` (their shift is long over: a new role starts a new one, as if
  // they had never been here), so the book does not grow with everyone who
  // ever held a role. How many were dropped.
  std::size_t forget_idle_before(TimePoint cutoff);

  Shift* find(const std::string& person);
  const std::map<std::string, Shift>& shifts() const { return m_shifts; }

  std::string serialize() const;
  static ShiftBook parse(const std::string& text, std::chrono::seconds short_break);

 private:
  std::chrono::seconds m_short_break;
  std::map<std::string, Shift> m_shifts;
};

}  // namespace calloutd
