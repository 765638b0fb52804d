// The engine's side of people's edits: the values they write into a callout
// (Status, Severity, Team roles) or a postmortem (Status). The scanner reads
// them; news() keeps what the engine does not know yet and names the commit
// that wrote each; the pipeline journals those like webhooks, and
// decide_observation() turns them into state and timeline entries.
#include <algorithm>

#include "daemon/base/log.hpp"
#include "daemon/base/plural.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/text/untrusted_text.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd {
namespace {

// How many changes of a file news() looks back through for the commit that
// wrote a value; an older edit is dated by the oldest of them.
constexpr std::size_t k_changes_looked_at = 64;

// Team roles in one comparable form: names as the engine keeps them.
std::string roles_text(const std::map<std::string, std::string>& roles) {
  std::string out;
  for (const auto& [role, holder] : roles) {
    out += role + "=" + normalise_person_name(holder) + "\n";
  }
  return out;
}

// The value `o` is about, as it reads in `o` itself.
std::string value_of(const FileObservation& o) {
  return o.key == keys::k_team_roles ? roles_text(o.roles) : o.value;
}

// The value `o` is about, as it reads in `text` (a version of its file).
std::string value_in(const FileObservation& o, const std::optional<std::string>& text) {
  if (!text) {
    return "";
  }
  const std::string path = o.folder + "/" + o.file;
  if (o.file == layout::k_postmortem_file) {
    return read_postmortem(*text, path).status;
  }
  auto callout = read_callout(*text, path);
  return o.key == keys::k_status     ? callout.status
         : o.key == keys::k_severity ? callout.severity
                                     : roles_text(callout.roles);
}

// When an edit counts as made: its commit's time, but never before `earliest`
// (a clock set wrong, a rebased commit) nor after `now` (the event's receipt).
TimePoint edit_time(TimePoint committed_at, TimePoint earliest, TimePoint now) {
  return std::min(std::max(committed_at, earliest), now);
}

// Whether state `s` already took `o` in (the same commit's value applied).
bool applied(const FileObservation& o, const GroupState& s) {
  auto it = s.observed.find(o.field());
  return it != s.observed.end() && it->second == o.commit;
}

std::string in_commit(const FileObservation& o) {
  return " (commit " + o.commit.substr(0, 12) + ")";
}

}  // namespace

std::vector<FileObservation> Engine::news(const std::vector<FileObservation>& seen) {
  std::vector<FileObservation> out;
  const std::string head = m_repository.head();
  for (auto o : seen) {
    auto sid = state_id_of("", o.folder);
    if (sid.empty() || !differs(o, m_states.at(sid))) {
      continue;  // a folder made by hand, or what the engine holds already
    }
    if (!attribute(o, head)) {
      log::debug("a value the daemon wrote differs from its state; left alone",
                 {{"folder", o.folder}, {"key", o.field()}});
      continue;
    }
    if (!applied(o, m_states.at(sid))) {
      out.push_back(std::move(o));
    }
  }
  return out;
}

bool Engine::differs(const FileObservation& o, const GroupState& s) const {
  if (o.file == layout::k_postmortem_file) {
    return !o.value.empty() && o.value != s.postmortem_status;
  }
  if (o.key == keys::k_status) {
    return (o.value == "resolved" && !s.resolved) || (o.value == "active" && s.resolved);
  }
  if (o.key == keys::k_severity) {
    return (o.value == "MPI" || o.value == "HPI") && o.value != severity_name(s.severity);
  }
  if (s.resolved) {
    return false;  // a resolved callout's Team roles are a record, not a roster
  }
  return std::any_of(o.roles.begin(), o.roles.end(), [&](const auto& written) {
    auto held = s.roles.find(written.first);
    return normalise_person_name(written.second) !=
           normalise_person_name(held == s.roles.end() ? "" : held->second.first);
  });
}

// The newest change of the file after which the value stopped being what it
// is now is the commit that wrote it.
bool Engine::attribute(FileObservation& o, const std::string& head) {
  auto changes = m_repository.changes_of(head, o.folder + "/" + o.file, k_changes_looked_at);
  if (changes.empty()) {
    return false;
  }
  const std::string now = value_of(o);
  const FileChange* writer = &changes.back();
  for (const auto& change : changes) {
    if (value_in(o, change.before) != now) {
      writer = &change;
      break;
    }
  }
  if (writer->by_us) {
    return false;
  }
  o.commit = writer->commit;
  o.committed_at = writer->committed_at;
  return true;
}

Engine::Plan Engine::decide_observation(const Event& event, const FileObservation& o,
                                        const GroupState& prior) const {
  Plan plan;
  plan.state = prior;
  if (applied(o, prior) || !differs(o, prior)) {
    plan.outcome = Outcome::unchanged;  // seen before, or the state says so already
    return plan;
  }
  const TimePoint at = edit_time(o.committed_at, prior.opened_at, event.received_at);
  if (o.file == layout::k_postmortem_file) {
    plan = decide_postmortem_edit(o, at, std::move(plan));
  } else if (o.key == keys::k_status) {
    plan = decide_status_edit(o, at, std::move(plan));
  } else if (o.key == keys::k_severity) {
    plan = decide_severity_edit(o, at, std::move(plan));
  } else {
    plan = decide_roles_edit(o, at, std::move(plan));
  }
  if (changes_files(plan.outcome)) {
    plan.state.observed[o.field()] = o.commit;
  }
  return plan;
}

Engine::Plan Engine::decide_status_edit(const FileObservation& o, TimePoint at, Plan plan) const {
  const bool resolve = o.value == "resolved";
  plan.state.resolved = resolve;
  plan.state.resolved_at = resolve ? at : TimePoint{};
  plan.resolves = resolve;
  plan.outcome = resolve ? Outcome::updated : Outcome::reopened;
  plan.summary = resolve ? "resolved in the file" : "reopened in the file";
  plan.entries.emplace_back(
      at, timeline_line(at,
                        std::string(resolve ? "callout resolved" : "callout reopened") +
                            " in the file: Status set to " + o.value + " by hand" + in_commit(o),
                        std::string(layout::k_callout_file)));
  return plan;
}

Engine::Plan Engine::decide_severity_edit(const FileObservation& o, TimePoint at, Plan plan) const {
  const Severity severity = o.value == "MPI" ? Severity::mpi : Severity::hpi;
  plan.entries.emplace_back(
      at, timeline_line(at,
                        "Severity changed from " + severity_name(plan.state.severity) + " to " +
                            o.value + " in the file" + in_commit(o),
                        std::string(layout::k_callout_file)));
  plan.state.severity = severity;
  plan.summary = "Severity " + o.value + " in the file";
  plan.outcome = Outcome::updated;
  return plan;
}

Engine::Plan Engine::decide_roles_edit(const FileObservation& o, TimePoint at, Plan plan) const {
  for (const auto& [role, written] : o.roles) {
    auto held = plan.state.roles.find(role);
    const std::string holder =
        normalise_person_name(held == plan.state.roles.end() ? "" : held->second.first);
    const std::string person = normalise_person_name(written);
    if (person == holder) {
      continue;  // as escaping and reading back leave it: the same person
    }
    // Not before the holder took the role: their shift cannot end earlier.
    const TimePoint when = holder.empty() ? at : std::max(at, held->second.second);
    plan.role_changes.push_back({role, person, when, true});
    std::string text = person.empty() ? role + " left; nobody holds it now"
                       : holder.empty()
                           ? role + " taken"
                           : "handover: " + role + " passes to the next holder (see Team roles)";
    plan.entries.emplace_back(when, timeline_line(when, text, keys::k_team_roles));
  }
  plan.summary = "Team roles in the file";
  plan.outcome = plan.entries.empty() ? Outcome::unchanged : Outcome::updated;
  return plan;
}

Engine::Plan Engine::decide_postmortem_edit(const FileObservation& o, TimePoint at,
                                            Plan plan) const {
  std::string entry = "postmortem moved from " + plan.state.postmortem_status + " to " + o.value;
  // An edit is never refused (the file is the truth), but one that skips the
  // review gate says what it skipped, and is counted.
  auto text = m_repository.read(o.commit, layout::postmortem_path(o.folder));
  if (text.ok() && *text && (o.value == "in review" || o.value == "published")) {
    auto missing =
        transition_blockers(read_postmortem(**text, layout::postmortem_path(o.folder)), o.value);
    if (!missing.empty()) {
      entry += " by an edit, past the review gate: " + join(missing, "; ");
      plan.gate_bypassed = o.value;
    }
  }
  plan.entries.emplace_back(at, timeline_line(at, entry, "Postmortem"));
  plan.state.postmortem_status = o.value;
  plan.summary = "postmortem " + o.value;
  plan.outcome = Outcome::updated;
  return plan;
}

}  // namespace calloutd
