#include "daemon/config/rota.hpp"

#include <algorithm>

namespace calloutd {

namespace {

// Floor division and a non-negative remainder, for turns before the start.
long long floor_div(long long a, long long b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

std::size_t wrap(long long turn, std::size_t n) {
  auto m = static_cast<long long>(n);
  return static_cast<std::size_t>(((turn % m) + m) % m);
}

}  // namespace

OnCall on_call(const Rota& rota, TimePoint t) {
  using namespace std::chrono;
  OnCall out;
  out.rota = rota.name;
  if (rota.primary.empty()) {
    return out;
  }
  auto local = rota.zone.to_local(t);
  auto day = floor<days>(local);
  long long since = (day - rota.start).count();
  if (local - day < rota.handover_at) {
    --since;  // before today's handover: yesterday's turn still runs
  }
  long long turn = floor_div(since, rota.every_days);
  out.primary = rota.primary[wrap(turn, rota.primary.size())];
  if (!rota.secondary.empty()) {
    out.secondary = rota.secondary[wrap(turn, rota.secondary.size())];
  } else if (rota.primary.size() > 1) {
    out.secondary = rota.primary[wrap(turn + 1, rota.primary.size())];
  }
  if (out.secondary == out.primary) {
    out.secondary.clear();  // one person cannot be their own second
  }
  return out;
}

const Rota* rota_for(const std::vector<Rota>& rotas, const std::string& technology) {
  for (const auto& r : rotas) {
    if (r.technologies.empty() || std::find(r.technologies.begin(), r.technologies.end(),
                                            technology) != r.technologies.end()) {
      return &r;
    }
  }
  return nullptr;
}

}  // namespace calloutd
