// The on-call rota: who is primary and secondary for a technology at an
// instant. A rota turns every `every` days at a local time of day in its
// time zone, so a 09:00 handover stays at 09:00 across daylight saving
// changes. Pure logic over TimeZone; the engine uses it to pre-fill
// Operations (primary) and Secondary when a callout opens.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "daemon/base/timefmt.hpp"
#include "daemon/base/timezone.hpp"

namespace calloutd {

struct Rota {
  std::string name;                       // for the timeline and logs: "databases"
  std::vector<std::string> technologies;  // slugs it covers; empty: every technology
  TimeZone zone = TimeZone::utc();
  std::chrono::local_days start{};             // the day the first person's turn begins
  std::chrono::seconds handover_at{9 * 3600};  // local time of day the rota turns
  int every_days = 7;
  std::vector<std::string> primary;
  std::vector<std::string> secondary;  // empty: the next person on `primary`
};

struct OnCall {
  std::string rota;
  std::string primary;
  std::string secondary;  // "" when nobody is second
};

// Who is on call on `rota` at `t`. Before `start` the rota runs backwards.
OnCall on_call(const Rota& rota, TimePoint t);

// The first rota that covers `technology`, or nullptr.
const Rota* rota_for(const std::vector<Rota>& rotas, const std::string& technology);

}  // namespace calloutd
