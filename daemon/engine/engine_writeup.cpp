// The lines of the write-ups the daemon owns, kept current as the incident
// goes on: when it last wrote, whether the alerts resolved, the handover it
// announced, and what the postmortem's Timeline copies from the callout.
// Each is changed only while it still reads as the daemon wrote it.
#include <re2/re2.h>

#include "daemon/base/duration.hpp"
#include "daemon/base/timefmt.hpp"
#include "daemon/engine/engine_internal.hpp"

namespace calloutd {
namespace {

// A time as the daemon writes it.
const std::string k_utc = R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC)";

}  // namespace

std::string resolution_facts(const GroupState& state, TimePoint end, const ResponseTarget& target) {
  auto after = [&](TimePoint t) {
    return format_duration(std::chrono::duration_cast<std::chrono::seconds>(
        std::max(t, state.opened_at) - state.opened_at));
  };
  auto within = [](std::chrono::seconds d) { return " (target " + format_duration(d) + ")"; };
  return "open for " + after(end) + within(target.resolve) + ", " +
         (state.acknowledged_at == TimePoint{}
              ? std::string("not acknowledged")
              : "acknowledged after " + after(state.acknowledged_at)) +
         within(target.acknowledge);
}

TimePoint incident_end(const GroupState& state) {
  TimePoint end{};
  for (const auto& [fingerprint, alert] : state.alerts) {
    end = std::max(end, alert.ends_at);
  }
  return end == TimePoint{} ? state.resolved_at : end;
}

std::string keep_current(std::string callout, const Progress& progress) {
  // The daemon's own wording of each line; compiled once.
  static const RE2 k_updated("(?m)^Last updated by calloutd at " + k_utc + R"(\.$)");
  static const RE2 k_criterion_todo(R"((?m)^- All alerts of the group resolved - TODO$)");
  static const RE2 k_criterion_done(R"((?m)^- All alerts of the group resolved - DONE \()" + k_utc +
                                    R"(\)$)");
  static const RE2 k_handover_due(R"((?m)^- Next Incident Lead: n/a \(handover due by )" + k_utc +
                                  R"(\)$)");
  RE2::Replace(&callout, k_updated, "Last updated by calloutd at " + format_utc(progress.at) + ".");
  if (progress.alerts_resolved) {
    RE2::Replace(&callout, k_criterion_todo,
                 "- All alerts of the group resolved - DONE (" + format_utc(progress.end) + ")");
  } else if (progress.reopened) {
    RE2::Replace(&callout, k_criterion_done, "- All alerts of the group resolved - TODO");
  }
  if (progress.resolved) {
    // No handover is due for a resolved incident.
    RE2::Replace(&callout, k_handover_due, "- Next Incident Lead: n/a");
  }
  return callout;
}

std::string for_postmortem(const std::string& entry) {
  static const RE2 k_bookkeeping(
      R"(; (?:callout opened as (?:MPI|HPI)|callout reopened|Status set to [a-z ]+))");
  std::string told = entry;
  RE2::GlobalReplace(&told, k_bookkeeping, "");
  return told;
}

}  // namespace calloutd
