// The engine: the only place with incident state. It turns an Alertmanager
// notification into semantic edits of the callout (open it, add timeline
// entries, set Status) applied to the repository's latest commit, and commits
// them together with the group's state. Not thread-safe: run it on one strand.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/git/repository.hpp"
#include "daemon/state/group_state.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/writeup/render.hpp"
#include "receivers/event.hpp"

namespace calloutd {

enum class Outcome {
  opened,     // a new callout was committed
  reopened,   // a resolved callout became active again
  updated,    // timeline entries (and maybe Status) were committed
  unchanged,  // a duplicate or stale notification: nothing to write
  ignored,    // no route matched and no incident is open for the group
  failed      // the repository refused the commit, or a file the event needs
              // cannot be read (see ApplyResult::error): retried later
};
std::string outcome_name(Outcome o);

// Why an event failed. The first three are the event's own group's: the
// pipeline holds that group's events alone and retries them, while other
// groups go on. A failed commit is everyone's: every event waits.
enum class Failure {
  none,
  state_unreadable,     // the group's state file cannot be read or parsed
  write_up_unreadable,  // its callout.md or postmortem.md cannot be read
  folder_unsafe,        // the repository refused to write its folder (an unsafe path)
  behind_held,          // an earlier event of the group is held: this one waits behind it
  commit,               // the commit failed (full or read-only disk, a broken repository)
};
// The label value of calloutd_events_held and the API: "state_unreadable"...
std::string failure_name(Failure f);
inline bool is_group_failure(Failure f) {
  return f == Failure::state_unreadable || f == Failure::write_up_unreadable ||
         f == Failure::folder_unsafe || f == Failure::behind_held;
}

struct ApplyResult {
  Outcome outcome = Outcome::unchanged;
  std::string incident_id;
  std::string folder;
  std::string commit;
  std::string error;
  // Set when this event acknowledged or resolved the incident, for the
  // time-to-acknowledge and time-to-resolve histograms.
  std::string severity;
  std::optional<double> acknowledged_after_seconds;
  std::optional<double> resolved_after_seconds;
  // The postmortem status ("in review", "published") an edit moved to
  // without what the review gate asks; empty otherwise.
  std::string review_gate_bypassed;
  // Paths in the repository this event's callout could not be written
  // through (symlinks, submodules, files where a folder goes): the callout
  // went to a safe folder instead. Counted by calloutd_unsafe_paths_total.
  std::vector<std::string> unsafe_paths;
  // Why it failed (Outcome::failed), and the state id (group) it is about
  // ("" when none is known).
  Failure failure = Failure::none;
  std::string group;
};

// An open incident, as listed by GET /api/v1/incidents and counted by metrics.
struct IncidentSummary {
  std::string incident_id;
  std::string folder;
  std::string technology;
  std::string severity;
  TimePoint opened_at{};
  std::map<std::string, std::string> roles;  // role -> holder
  TimePoint handover_due{};                  // the Next Incident Lead is due by then
};

class Engine {
 public:
  Engine(const Config& config, Repository& repository, const Templates& templates);

  // From the next event on, `config` and `templates` (a reload): routes,
  // rotas, shifts, receivers' settings, the reopen window. On the strand,
  // between events.
  void reconfigure(std::shared_ptr<const Config> config,
                   std::shared_ptr<const Templates> templates);

  // Reads every group state committed in the repository (call once at start).
  void load();

  // The branch moved from `from` to `to` without the engine (a fetch brought
  // other daemons' and engineers' commits): reads again the group states and
  // shifts that changed between them (all of them when it cannot tell).
  // A file removed at `to` is removed from memory too (the files are the
  // truth); one that cannot be read or parsed keeps what memory held.
  void refresh(const std::string& from, const std::string& to);

  // State files under .calloutd/ found unreadable (a read error, or content
  // that does not parse) since start, by kind: "group" or "shifts". Each is
  // logged naming the file and the problem; calloutd_state_files_unreadable_total
  // counts them.
  std::map<std::string, std::uint64_t> unreadable_state_files() const { return m_unreadable; }

  // What tidy_state did: group state files at the head after it, those it
  // removed and moved, and the commit ("" when nothing changed or it failed).
  struct StateTidy {
    std::size_t files = 0;
    std::size_t pruned = 0;
    std::size_t moved = 0;
    std::size_t shifts_trimmed = 0;
    std::string commit;
    std::string error;
  };
  // Keeps .calloutd/ small, in one commit: removes the state files of groups
  // resolved longer ago than prune_retention (and forgets them), moves flat
  // state files to their shards, and drops from the shift book the people
  // idle that long. At most once per `k_tidy_interval` (the first call runs),
  // unless `when` says now. On the strand, like an event.
  enum class When { due, now };
  StateTidy tidy_state(TimePoint now, When when = When::due);
  static constexpr std::chrono::hours k_tidy_interval{1};
  // Group states held (one state file each under .calloutd/groups/).
  std::size_t state_count() const { return m_states.size(); }

  // Applies one notification. Idempotent: applying the same event twice, or an
  // older one after a newer one, changes nothing the second time.
  ApplyResult apply(const Event& event);

  // Applies `events` in order as one commit (a group commit): each sees the
  // changes of the ones before it. One result per event, in order. An event
  // of a group in `held` (state ids), or of a group whose earlier event in
  // the batch failed for a reason of its own, is not applied: it fails with
  // Failure::behind_held, so that a group's events stay in order.
  std::vector<ApplyResult> apply_batch(const std::vector<Event>& events,
                                       const std::set<std::string>& held = {});

  std::vector<IncidentSummary> open_incidents() const;

  // The 4-hour rule: a person alone in Operations on an incident (no
  // Secondary) is warned `warning_lead` before the work limit and told to
  // call the Secondary at it, as timeline entries of every incident they are
  // on (once per shift). Commits what it adds. Call regularly on the strand.
  void check_work_limits(TimePoint now);

  // True when `incident_id` is a known incident (its state is kept).
  bool has_incident(const std::string& incident_id) const;

  // An API request about an incident (RoleRequest, ResolveRequest,
  // AckRequest; for a PostmortemStatusChange only whether the incident is
  // known) checked against the committed state before it is journaled, so
  // that the HTTP answer says what the engine will do: an unknown incident,
  // a refusal (a leave by someone who does not hold the role, a resolution
  // while alerts fire), or nothing to change. Read-only; on the strand.
  // Applying the event decides again (the state may have moved in between).
  struct Admission {
    enum class Verdict { accept, unchanged, unknown, conflict };
    Verdict verdict = Verdict::accept;
    std::string reason;                // the answer's sentence; empty for accept
    std::vector<std::string> details;  // conflict: each item (the alerts that fire)
  };
  Admission admit(const Payload& request) const;

  struct ResponderStats {
    std::map<std::string, int> on_shift_by_role;
    std::vector<std::pair<std::string, double>> work_seconds;  // on-shift people, longest first
    int over_limit = 0;          // lone Operations engineers past the limit now
    int handovers_overdue = 0;   // active incidents past their Next Incident Lead due time
    std::uint64_t breaches = 0;  // limit breaches since start (a counter)
  };
  ResponderStats responder_stats(TimePoint now) const;

  // Response targets (config response_targets) against the open incidents:
  // how many are past each target now, by "<severity> <target>" (target:
  // acknowledge or resolve), and the targets passed since the last call, one
  // entry per incident (a breach is counted when the target passes, once).
  struct ResponseStats {
    std::map<std::pair<std::string, std::string>, int> past;  // (severity, target) -> incidents
    std::vector<std::pair<std::string, std::string>> breaches;
  };
  ResponseStats response_stats(TimePoint now);

  // What of `seen` (values the scanner read from files that changed) differs
  // from what the engine holds: people's edits to apply as events. Each is
  // given the commit that wrote its value (its identity) and that commit's
  // time; values the daemon wrote itself are left out.
  std::vector<FileObservation> news(const std::vector<FileObservation>& seen);

  // Why incident `incident_id`'s postmortem cannot move to `status` now (empty:
  // it can); an error when there is no such incident or postmortem.
  Result<std::vector<std::string>> postmortem_blockers(const std::string& incident_id,
                                                       const std::string& status);

 private:
  struct Plan;
  class Overlay;
  // One event's decision, step by step (engine_alertmanager.cpp, engine_pagerduty.cpp).
  struct AlertSteps;
  struct PagerDutyStep;
  // The state of group `id` as the batch sees it: nullopt for a new group,
  // an error when its file cannot be read or parsed (see state_for's comment).
  Result<std::optional<GroupState>> state_for(const std::string& id, const Overlay& view);
  // Group state file `path` at `commit` (nullopt when absent), or why it
  // cannot be read or parsed; the shift book likewise. Both count a failure.
  Result<std::optional<GroupState>> read_state(const std::string& commit, const std::string& path);
  Result<std::optional<ShiftBook>> read_shifts(const std::string& commit);
  // Reads every group state and the shifts at `commit`, keeping what memory
  // holds for a file that cannot be read.
  void reload(const std::string& commit);
  // The group state files at `commit`, by group id, in either layout (a
  // shard's wins), and one group's state read from either.
  std::map<std::string, std::string> state_files(const std::string& commit);
  Result<std::optional<GroupState>> read_group(const std::string& commit, const std::string& id);
  // Removes group `id` from memory: its state and the response targets
  // counted for it (the caller rebuilds the correlation indexes).
  void forget(const std::string& id);
  // The tidy's changes to `view`, counted in `out`; the pruned ids.
  std::vector<std::string> plan_tidy(Overlay& view, TimePoint now,
                                     std::optional<std::chrono::seconds> keep, StateTidy& out);
  // Replaces a symlink or a file in the way of .calloutd/ (people's commit)
  // by the daemon's own folder in `view`'s commit, all states written again;
  // the entries to replace (a line added to `message` for them).
  std::vector<std::string> reclaim_own_folder(Overlay& view, std::string& message);
  // The README.md index for `states`, written into `view` when it changed.
  void write_index(Overlay& view, const std::map<std::string, GroupState>& states) const;
  void refresh_file(const std::string& path, const std::string& to);
  ApplyResult apply_to(const Event& event, Overlay& view, std::set<std::string>& held);
  // The decision and the edits of `event` about state `sid` (`prior`).
  ApplyResult apply_with(const Event& event, const std::string& sid,
                         const std::optional<GroupState>& prior, Overlay& view);
  // apply_batch for a batch whose commit was refused for an unsafe path:
  // each event alone, so that only the group whose folder is unsafe fails.
  std::vector<ApplyResult> apply_each(const std::vector<Event>& events, std::set<std::string> held);
  // The state id `event` is about ("" when none is known).
  std::string state_id_for(const Event& event, const Overlay& view);
  // The state machine for `event`'s source.
  Plan decide(const Event& event, const std::string& sid, const std::optional<GroupState>& prior,
              const Overlay& view) const;
  // Which state (callout) an event belongs to: its own, or the one it joins
  // through the Alertmanager/PagerDuty correlation.
  std::string state_id_for(const AlertGroup& group, const Overlay& view);
  std::string state_id_for(const PagerDutyEvent& event) const;
  // The state machines: what an event changes, given the committed state.
  Plan decide_alerts(const Event& event, const AlertGroup& group, const std::string& id,
                     const std::optional<GroupState>& prior) const;
  Plan decide_pagerduty(const Event& event, const PagerDutyEvent& pd, const std::string& id,
                        const std::optional<GroupState>& prior) const;
  Plan decide_postmortem(const Event& event, const PostmortemStatusChange& change,
                         const GroupState& prior, const Overlay& view) const;
  // People's edits of a file (engine_edits.cpp).
  Plan decide_observation(const Event& event, const FileObservation& o,
                          const GroupState& prior) const;
  Plan decide_status_edit(const FileObservation& o, TimePoint at, Plan plan) const;
  Plan decide_severity_edit(const FileObservation& o, TimePoint at, Plan plan) const;
  Plan decide_roles_edit(const FileObservation& o, TimePoint at, Plan plan) const;
  Plan decide_postmortem_edit(const FileObservation& o, TimePoint at, Plan plan) const;
  // Whether `o`'s value differs from what state `s` holds.
  bool differs(const FileObservation& o, const GroupState& s) const;
  // Fills in the commit that wrote `o`'s value; false when the daemon wrote it.
  bool attribute(FileObservation& o, const std::string& head);
  Plan decide_roles(const Event& event, const RoleRequest& request, const GroupState& prior) const;
  Plan decide_manual(const ManualIncident& m, const std::string& id,
                     const std::optional<GroupState>& prior) const;
  // Requests about an open incident made by hand (engine_requests.cpp).
  Plan decide_resolve(const Event& event, const ResolveRequest& request,
                      const GroupState& prior) const;
  Plan decide_ack(const Event& event, const AckRequest& request, const GroupState& prior) const;
  // The state id of an incident id or folder, "" when unknown.
  std::string state_id_of(const std::string& incident_id, const std::string& folder = "") const;
  // Renders and edits the files of `plan` into `view`; an error (and
  // nothing written) when a file it edits cannot be read.
  Result<Ok> write(Plan& plan, Overlay& view) const;
  // Gives a new callout its folder, and moves an open one whose folder became
  // unsafe to write; true when it moved.
  bool place_callout(Plan& plan, const Overlay& view) const;
  // The callout the plan's edits apply to: rendered when new or moved, else
  // read (and rendered again when someone deleted it).
  Result<std::string> callout_to_edit(Plan& plan, Overlay& view, bool moved) const;
  // The callout's first values for `plan`, with the earlier callouts of its issue.
  static CalloutView render_view(const Plan& plan, const Overlay& view);
  // The postmortem with its keys set, and its Timeline seeded from `callout`
  // when the plan resolves; nullopt when there is nothing to write.
  static Result<std::optional<std::string>> postmortem_to_write(const Plan& plan,
                                                                const Overlay& view,
                                                                const std::string& callout);
  // A folder for `plan`'s new (or moved) callout that is safe to write at the
  // view's head; the unsafe paths it went around are added to the plan.
  std::string new_folder(Plan& plan, const Overlay& view) const;
  // The first path that keeps `folder`'s callout or postmortem from being
  // written (a symlink, a submodule, a file where a folder goes), if any.
  std::optional<std::string> unsafe_folder(const std::string& folder, const Overlay& view) const;
  void index(const GroupState& state);
  void rebuild_index();
  // Pre-fills Operations and Secondary from the on-call rota covering the
  // callout's technology (roles an event already sets are left to it).
  void prefill_from_rota(Plan& plan, TimePoint at) const;
  // Records who takes or leaves which role (and their shifts) for `plan`.
  void apply_roles(Plan& plan, Overlay& view) const;
  ShiftBook& shifts_of(Overlay& view) const;
  // The 4-hour rule's notice due for `person` now ("" when none), marked as
  // given in their shift; a breach is counted.
  std::string work_limit_notice(ShiftBook& shifts, const std::string& person, TimePoint now);
  // Adds the notice `text` to the timeline of each incident in `ids` that can be written.
  void add_work_limit_notice(const std::set<std::string>& ids, const std::string& text,
                             TimePoint now, Overlay& view) const;
  // Commits what `view` holds; parent_moved/failed as the repository says.
  CommitOutcome commit_view(Overlay& view);

  // The constructor's until a reload; the current and the previous reloaded
  // ones are kept alive here.
  struct Reloaded {
    std::shared_ptr<const Config> config;
    std::shared_ptr<const Templates> templates;
  };
  const Config* m_config;
  Repository& m_repository;
  const Templates* m_templates;
  Reloaded m_current, m_previous;
  std::map<std::string, GroupState> m_states;  // by state id, as last committed
  // Correlation indexes over m_states and the batch in progress.
  std::map<std::string, std::string> m_by_dedup_key;  // dedup/incident key -> state id
  std::map<std::string, std::string> m_by_group;      // joined Alertmanager group -> state id
  std::map<std::string, std::string> m_by_pagerduty;  // PagerDuty incident id -> state id
  ShiftBook m_shifts;                                 // as last committed
  std::uint64_t m_breaches = 0;
  std::map<std::string, std::uint64_t> m_unreadable;  // kind -> state files found unreadable
  std::vector<std::string> m_reclaimed;  // replaced by reclaim_own_folder, not yet reported
  std::set<std::pair<std::string, std::string>> m_targets_passed;  // (state id, target) counted
  std::optional<TimePoint> m_last_tidy;                            // when tidy_state last ran
};

}  // namespace calloutd
