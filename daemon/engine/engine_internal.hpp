// Engine internals shared by its implementation files (engine.cpp for the
// batch and Alertmanager, engine_pagerduty.cpp for PagerDuty). Not for other users.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/engine/engine.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/writeup/keys.hpp"

namespace calloutd {

// The repository as one batch sees it: the head commit, plus the files and
// states written by the batch's earlier events.
class Engine::Overlay {
 public:
  Overlay(Repository& repository, std::string head)
      : m_repository(repository), m_head(std::move(head)) {}

  const std::string& head() const { return m_head; }
  // The prefix of `path` that the head's tree keeps from holding a `kind`
  // (see Repository::unsafe_prefix). The batch writes only plain files in
  // folders, so the head alone decides.
  std::optional<std::string> unsafe(const std::string& path, PathKind kind) const {
    return m_head.empty() ? std::nullopt : m_repository.unsafe_prefix(m_head, path, kind);
  }
  // The batch's own version of `path`, else the head's (see FileRead).
  FileRead read(const std::string& path) const {
    if (m_removed.contains(path)) {
      return std::optional<std::string>{};
    }
    auto it = m_files.find(path);
    return it != m_files.end() ? FileRead(std::optional(it->second))
                               : m_repository.read(m_head, path);
  }
  // The names in `dir`: the head's plus the batch's new ones. Read from the
  // repository once per batch (a technology may hold thousands of folders).
  const std::set<std::string>& names(const std::string& dir) const {
    auto it = m_names.find(dir);
    if (it == m_names.end()) {
      auto listed = m_repository.list(m_head, dir);
      std::set<std::string> all(listed.begin(), listed.end());
      for (const auto& [path, content] : m_files) {
        if (auto name = child_of(dir, path)) {
          all.insert(*name);
        }
      }
      for (const auto& path : m_removed) {
        if (auto name = child_of(dir, path); name && dir + "/" + *name == path) {
          all.erase(*name);  // a removed file (a folder it empties may stay listed)
        }
      }
      it = m_names.emplace(dir, std::move(all)).first;
    }
    return it->second;
  }
  void write(const std::string& path, std::string content) {
    for (auto& [dir, names] : m_names) {
      if (auto name = child_of(dir, path)) {
        names.insert(*name);
      }
    }
    m_removed.erase(path);
    m_files[path] = std::move(content);
  }
  // `git rm path` in this batch's commit.
  void remove(const std::string& path) {
    m_files.erase(path);
    m_removed.insert(path);
    for (auto& [dir, names] : m_names) {
      if (auto name = child_of(dir, path); name && dir + "/" + *name == path) {
        names.erase(*name);
      }
    }
  }
  std::vector<std::string> removals() const { return {m_removed.begin(), m_removed.end()}; }
  std::vector<FileWrite> files() const {
    std::vector<FileWrite> out;
    for (const auto& [path, content] : m_files) {
      out.push_back({path, content});
    }
    return out;
  }

  std::map<std::string, GroupState> states;  // by state id, as this batch leaves them
  std::optional<ShiftBook> shifts;           // set when the batch changed who works
  std::vector<std::string> changes;          // one line per change, for the commit message
  // State ids whose file cannot be read, with why: read once per batch (by
  // lookups that only look, hence mutable).
  mutable std::map<std::string, std::string> unreadable;

 private:
  // The first component of `path` below `dir`, when it is below.
  static std::optional<std::string> child_of(const std::string& dir, const std::string& path) {
    if (path.size() <= dir.size() + 1 || path.compare(0, dir.size(), dir) != 0 ||
        path[dir.size()] != '/') {
      return std::nullopt;
    }
    auto rest = path.substr(dir.size() + 1);
    return rest.substr(0, rest.find('/'));
  }

  Repository& m_repository;
  std::string m_head;
  std::map<std::string, std::string> m_files;
  std::set<std::string> m_removed;                               // paths removed by this batch
  mutable std::map<std::string, std::set<std::string>> m_names;  // dir -> names, this batch
};

// What one event changes: the new state and the semantic edits of the callout.
struct Engine::Plan {
  GroupState state;
  Outcome outcome = Outcome::unchanged;
  const Route* route = nullptr;
  std::vector<const Alert*> opening;         // firing alerts that open or reopen the callout
  std::map<std::string, std::string> keys;   // key heading -> new value (escaped)
  std::map<std::string, std::string> roles;  // Team roles label -> holder (escaped), derived
  struct RoleChange {
    std::string role;    // Operations, Secondary, ...
    std::string person;  // the new holder; "" when the role is left
    TimePoint at;
    // Someone took the role (the API, calloutctl, an edit): the first
    // Operations holder so named acknowledges the incident. A rota's
    // pre-fill and PagerDuty's assignment do not.
    bool taken = false;
  };
  std::vector<RoleChange> role_changes;
  std::map<std::string, std::string> postmortem_keys;      // postmortem.md key -> new value
  std::vector<std::pair<TimePoint, std::string>> entries;  // complete timeline lines
  std::string summary;  // for the commit message; derived from the outcome when empty
  std::optional<TimePoint> acknowledged_at;  // this event acknowledged the incident first
  std::vector<std::string> unsafe_paths;     // refused on the way to the callout's folder
  bool resolves = false;                     // this event resolved it
  bool alerts_resolved = false;  // ... because its alerts (or PagerDuty's incident) resolved
  bool reopens = false;          // this event reopened a resolved callout
  std::string gate_bypassed;     // an edit moved the postmortem here past the review gate
  TimePoint at{};                // when the event was received: the daemon's "Last updated"
  std::string error;  // set when a file the decision needs cannot be read: the event fails
  // Renders the callout's first values from the final state (to open it, or to
  // write it again when someone deleted it).
  std::function<CalloutView(const GroupState&)> make_view;
};

inline constexpr const char* k_timeline_key = keys::k_incident_timeline;
inline constexpr const char* k_shifts_path = ".calloutd/shifts.json";

// engine_writeup.cpp: the lines of the write-ups the daemon owns, kept current.

// How long the incident ran until `end`, and how soon it was acknowledged,
// against its response targets: "open for 2m9s (target 24h), not
// acknowledged (target 1h)".
std::string resolution_facts(const GroupState& state, TimePoint end, const ResponseTarget& target);
// What an event did, for the lines the daemon keeps current.
struct Progress {
  TimePoint at;                  // when the event was received
  bool alerts_resolved = false;  // the alerts (or PagerDuty's incident) resolved
  bool resolved = false;         // the callout resolved, by its alerts or by hand
  bool reopened = false;
  TimePoint end{};  // when it resolved (incident_end)
};
// `callout` with what the daemon owns brought up to date after the event's
// own edits: "Last updated by calloutd at", the exit criterion of the
// alerts, the handover announced for a resolved incident. Lines people
// changed from the daemon's wording are left alone.
std::string keep_current(std::string callout, const Progress& progress);
// A callout timeline entry as the postmortem's Timeline tells it: without
// the callout's bookkeeping ("; Status set to resolved", "callout opened as HPI").
std::string for_postmortem(const std::string& entry);
// The end of the incident for its write-up: its alerts' last end, else when
// it was resolved.
TimePoint incident_end(const GroupState& state);

// State ids of callouts that PagerDuty opened (Alertmanager groups have hex ids).
inline constexpr const char* k_pagerduty_state_prefix = "pd-";

inline bool changes_files(Outcome o) {
  return o == Outcome::opened || o == Outcome::reopened || o == Outcome::updated;
}

inline TimePoint or_now(TimePoint t, TimePoint now) {
  return t == TimePoint{} ? now : t;
}

}  // namespace calloutd
