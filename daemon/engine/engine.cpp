#include "daemon/engine/engine.hpp"

#include <re2/re2.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <thread>

#include "daemon/base/duration.hpp"
#include "daemon/base/hash.hpp"
#include "daemon/base/log.hpp"
#include "daemon/base/plural.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/engine/manual.hpp"
#include "daemon/state/group_state.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/text/url_redact.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"
#include "daemon/writeup/repo_index.hpp"

namespace calloutd {
namespace {

constexpr int k_max_attempts = 8;

bool is_grafana(const std::string& url) {
  return url.find("/d/") != std::string::npos || url.find("/d-solo/") != std::string::npos ||
         url.find("grafana") != std::string::npos;
}

// `url` with Grafana's from/to (Unix milliseconds) set to [from, to].
std::string pin_time_range(const std::string& url, TimePoint from, TimePoint to) {
  auto ms = [](TimePoint t) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  std::string base = url.substr(0, url.find('#'));
  std::string fragment = url.size() > base.size() ? url.substr(base.size()) : "";
  static const RE2 k_old_range(R"([?&](?:from|to)=[^&]*)");
  RE2::GlobalReplace(&base, k_old_range, "");
  if (base.find('?') == std::string::npos && base.find('&') != std::string::npos) {
    base[base.find('&')] = '?';
  }
  base += (base.find('?') == std::string::npos ? "?" : "&") + std::string("from=") + ms(from) +
          "&to=" + ms(to);
  return base + fragment;
}

// Grafana's range around the incident: some context before the first alert
// and after the resolution.
constexpr auto k_dashboard_margin = std::chrono::minutes(15);

// When the callout resolves, the postmortem's Timeline gets the callout's
// entries (oldest first, each once, without the callout's bookkeeping) and
// its Dashboard the incident's time range.
std::string seed_postmortem(std::string postmortem, const std::string& callout,
                            const GroupState& state) {
  auto existing = markdown::list_item_sources(postmortem, keys::k_timeline);
  std::set<std::string> have;
  for (const auto& entry : existing) {
    have.insert(for_postmortem(entry));
  }
  // The callout lists newest first: walk it backwards so that entries of the
  // same second keep their order.
  auto entries = markdown::list_item_sources(callout, k_timeline_key);
  std::vector<markdown::ListEntry> adding;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    auto entry = for_postmortem(*it);
    if (have.insert(entry).second) {
      auto when = parse_timeline_time(entry).value_or(TimePoint{});
      adding.push_back({when, std::move(entry)});
    }
  }
  postmortem = markdown::add_list_entries(postmortem, keys::k_timeline, adding,
                                          markdown::Order::oldest_first);
  if (is_grafana(state.dashboard_url)) {
    auto pinned = pin_time_range(state.dashboard_url, state.opened_at - k_dashboard_margin,
                                 incident_end(state) + k_dashboard_margin);
    postmortem = markdown::set_list_item(postmortem, keys::k_supporting_information, "Dashboard",
                                         markdown::link("Dashboard (incident time range)", pinned));
  }
  return postmortem;
}

// The folder holding `path` (the technology folder of a callout's folder).
std::string parent_of(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

// The earlier callouts of `issue` beside `folder` (`names` lists their
// technology folder, where they sort side by side), newest first.
std::vector<std::string> previous_callouts(const std::string& issue, const std::string& folder,
                                           const std::set<std::string>& names) {
  std::vector<std::string> previous;
  const std::string prefix = issue + "-";
  for (auto it = names.lower_bound(prefix); it != names.end() && it->rfind(prefix, 0) == 0; ++it) {
    if (parent_of(folder) + "/" + *it != folder && layout::is_issue_folder(*it, issue)) {
      previous.push_back(*it);
    }
  }
  std::sort(previous.rbegin(), previous.rend());
  return previous;
}

void add_unique(std::vector<std::string>& paths, const std::string& path) {
  if (std::find(paths.begin(), paths.end(), path) == paths.end()) {
    paths.push_back(path);
  }
}

// The repository as the allocation of a folder sees it: the batch's view of
// the head (a template only because Engine::Overlay is private to Engine).
template <class View>
layout::Ground ground_of(const View& view) {
  return layout::Ground{
      [&view](const std::string& dir) { return view.names(dir); },
      [&view](const std::string& dir) { return view.unsafe(dir, PathKind::folder); },
      [&view](const std::string& path) { return view.unsafe(path, PathKind::file); }};
}

// The results of a batch's events that changed files, once its commit is
// done: their commit, or why they failed. A path refused as unsafe is the
// one event's own folder (a batch of several is applied event by event).
void settle(std::vector<ApplyResult>& results, const CommitOutcome& committed) {
  for (auto& r : results) {
    if (!changes_files(r.outcome)) {
      continue;
    }
    if (committed.status == CommitStatus::committed) {
      r.commit = committed.id;
      continue;
    }
    r.outcome = Outcome::failed;
    r.error = committed.error;
    r.failure =
        committed.status == CommitStatus::unsafe_path ? Failure::folder_unsafe : Failure::commit;
  }
}

}  // namespace

std::string failure_name(Failure f) {
  switch (f) {
    case Failure::none:
      return "none";
    case Failure::state_unreadable:
      return "state_unreadable";
    case Failure::write_up_unreadable:
      return "write_up_unreadable";
    case Failure::folder_unsafe:
      return "folder_unsafe";
    case Failure::behind_held:
      return "behind_held";
    case Failure::commit:
      return "commit";
  }
  return "commit";
}

std::string outcome_name(Outcome o) {
  switch (o) {
    case Outcome::opened:
      return "opened";
    case Outcome::reopened:
      return "reopened";
    case Outcome::updated:
      return "updated";
    case Outcome::unchanged:
      return "unchanged";
    case Outcome::ignored:
      return "ignored";
    case Outcome::failed:
      return "failed";
  }
  return "failed";
}

Engine::Engine(const Config& config, Repository& repository, const Templates& templates)
    : m_config(&config),
      m_repository(repository),
      m_templates(&templates),
      m_shifts(config.shifts.short_break) {}

void Engine::reconfigure(std::shared_ptr<const Config> config,
                         std::shared_ptr<const Templates> templates) {
  // What the last events planned may still point into the one before.
  m_previous = std::move(m_current);
  m_current = {std::move(config), std::move(templates)};
  m_config = m_current.config.get();
  m_templates = m_current.templates.get();
}

// A state file that cannot be read or parsed is never taken for an absent
// one: the engine keeps what it held in memory (the next commit of that
// group, or of the shifts, writes the file again from it), logs the file and
// the problem, and counts it (calloutd_state_files_unreadable_total). At
// start nothing is held yet: a group's events fail until its file is fixed
// (see state_for), and the shift book starts empty (shifts only restart the
// 4-hour clock early; no incident is lost).
void Engine::load() {
  reload(m_repository.head());
  log::info("loaded incident state", {{"groups", std::to_string(m_states.size())}});
}

Result<std::optional<GroupState>> Engine::read_state(const std::string& commit,
                                                     const std::string& path) {
  auto text = m_repository.read(commit, path);
  if (text.ok() && !*text) {
    return std::optional<GroupState>{};
  }
  auto state = text.ok() ? parse_state(**text) : std::nullopt;
  if (state) {
    return state;
  }
  ++m_unreadable["group"];
  return Error{text.ok() ? "\"" + path + "\" is not a group state this version reads"
                         : text.error()};
}

Result<std::optional<ShiftBook>> Engine::read_shifts(const std::string& commit) {
  auto text = m_repository.read(commit, k_shifts_path);
  if (text.ok() && !*text) {
    return std::optional<ShiftBook>{};
  }
  if (text.ok() && nlohmann::json::parse(**text, nullptr, false).is_object()) {
    try {
      return std::optional(ShiftBook::parse(**text, m_config->shifts.short_break));
    } catch (const nlohmann::json::exception&) {
      // a field of the wrong type: unreadable like bad JSON
    }
  }
  ++m_unreadable["shifts"];
  return Error{text.ok() ? "\"" + std::string(k_shifts_path) + "\" is not a shift book"
                         : text.error()};
}

// Both layouts are read (see state_path): a shard's file wins over a flat
// one of the same group, which only a version before the shards wrote.
void Engine::reload(const std::string& commit) {
  std::map<std::string, GroupState> states;
  for (const auto& [id, path] : state_files(commit)) {
    auto state = read_state(commit, path);
    if (state.ok() && *state) {
      states[id] = std::move(**state);
    } else if (!state.ok()) {
      bool kept = m_states.contains(id);
      if (kept) {
        states[id] = m_states.at(id);
      }
      log::error("cannot read a group state file",
                 {{"file", path},
                  {"error", state.error()},
                  {"then", kept ? "the state in memory is kept"
                                : "events of the group fail (and are retried) until it is fixed"}});
    }
  }
  m_states = std::move(states);
  rebuild_index();
  refresh_file(k_shifts_path, commit);
}

std::map<std::string, std::string> Engine::state_files(const std::string& commit) {
  std::map<std::string, std::string> files;  // id -> path; shards first, so they win
  std::vector<std::string> flat;
  for (const auto& name : m_repository.list(commit, k_state_dir)) {
    const auto path = std::string(k_state_dir) + "/" + name;
    if (name.ends_with(".json")) {
      flat.push_back(path);
      continue;
    }
    for (const auto& file : m_repository.list(commit, path)) {
      if (auto id = state_id_of_path(path + "/" + file)) {
        files.emplace(*id, path + "/" + file);
      }
    }
  }
  for (const auto& path : flat) {
    if (auto id = state_id_of_path(path)) {
      files.emplace(*id, path);
    }
  }
  return files;
}

Result<std::optional<GroupState>> Engine::read_group(const std::string& commit,
                                                     const std::string& id) {
  auto state = read_state(commit, state_path(id));
  if (state.ok() && !*state) {
    return read_state(commit, flat_state_path(id));
  }
  return state;
}

void Engine::refresh(const std::string& from, const std::string& to) {
  auto changed = from.empty() ? std::nullopt : m_repository.changed_files(from, to);
  if (!changed) {
    reload(to);
    return;
  }
  for (const auto& path : *changed) {
    refresh_file(path, to);
  }
  rebuild_index();
}

// Reads again `path` at `to` when it is a state file; the caller rebuilds the index.
void Engine::refresh_file(const std::string& path, const std::string& to) {
  if (path == k_shifts_path) {
    auto shifts = read_shifts(to);
    if (!shifts.ok()) {
      log::error("cannot read the shifts file; the shifts in memory are kept",
                 {{"file", path}, {"error", shifts.error()}});
    } else {
      // Absent: none (after a reset onto a remote that never had them, the
      // journal's events are applied again and make them anew).
      m_shifts = shifts->value_or(ShiftBook(m_config->shifts.short_break));
    }
    return;
  }
  auto id = state_id_of_path(path);
  if (!id) {
    return;
  }
  // The group in either layout: a flat file moved to its shard is no removal.
  auto state = read_group(to, *id);
  if (!state.ok()) {
    log::error("cannot read a group state file; the state in memory is kept",
               {{"file", path}, {"error", state.error()}});
  } else if (*state) {
    m_states[*id] = std::move(**state);
  } else {
    forget(*id);
  }
}

void Engine::index(const GroupState& s) {
  for (const auto& key : s.dedup_keys) {
    m_by_dedup_key[key] = s.group_id;
  }
  for (const auto& g : s.joined_groups) {
    m_by_group[g] = s.group_id;
  }
  if (!s.pd_incident.empty()) {
    m_by_pagerduty[s.pd_incident] = s.group_id;
  }
}

void Engine::rebuild_index() {
  m_by_dedup_key.clear();
  m_by_group.clear();
  m_by_pagerduty.clear();
  for (const auto& [id, s] : m_states) {
    index(s);
  }
}

// A group whose state file cannot be read or parsed is not taken for a new
// one (that would open a second callout, in a new folder, for an incident
// already open): its events fail, stay journaled and are retried until the
// file is readable again (fixed by hand, or the commit that broke it
// reverted). Once per batch: the failure is remembered in the view.
Result<std::optional<GroupState>> Engine::state_for(const std::string& id, const Overlay& view) {
  if (auto it = view.states.find(id); it != view.states.end()) {
    return std::optional(it->second);
  }
  if (auto it = m_states.find(id); it != m_states.end()) {
    return std::optional(it->second);
  }
  if (auto it = view.unreadable.find(id); it != view.unreadable.end()) {
    return Error{it->second};
  }
  auto state = read_group(view.head(), id);
  if (!state.ok()) {
    log::error("cannot read a group state file; its events fail until it is fixed",
               {{"file", state_path(id)}, {"error", state.error()}});
    view.unreadable[id] = state.error();
  } else if (*state) {
    m_states[id] = **state;
    index(**state);
  }
  return state;
}

ApplyResult Engine::apply(const Event& event) {
  return apply_batch({event}).front();
}

std::vector<ApplyResult> Engine::apply_batch(const std::vector<Event>& events,
                                             const std::set<std::string>& held) {
  for (int attempt = 0; attempt < k_max_attempts; ++attempt) {
    Overlay view(m_repository, m_repository.head());
    std::vector<ApplyResult> results;
    auto held_now = held;
    for (const auto& event : events) {
      results.push_back(apply_to(event, view, held_now));
    }
    if (view.changes.empty()) {
      return results;
    }
    auto committed = commit_view(view);
    if (committed.status == CommitStatus::parent_moved) {
      // Someone committed meanwhile (or holds the branch's lock): forget what
      // was read and recompute on the new head, after a short pause that grows.
      if (attempt + 1 < k_max_attempts) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1 << attempt));
      }
      for (const auto& [id, state] : view.states) {
        m_states.erase(id);
      }
      rebuild_index();
      continue;
    }
    if (committed.status == CommitStatus::unsafe_path && view.changes.size() > 1) {
      // Which event's folder was refused is known only event by event.
      rebuild_index();
      return apply_each(events, held);
    }
    if (committed.status == CommitStatus::committed && !m_reclaimed.empty()) {
      // Counted with the paths not written through (calloutd_unsafe_paths_total).
      auto& unsafe = results.front().unsafe_paths;
      unsafe.insert(unsafe.end(), m_reclaimed.begin(), m_reclaimed.end());
      m_reclaimed.clear();
    }
    settle(results, committed);
    rebuild_index();
    return results;
  }
  std::vector<ApplyResult> gave_up(events.size());
  for (auto& r : gave_up) {
    r.outcome = Outcome::failed;
    r.failure = Failure::commit;
    r.error = "the branch kept moving; gave up after retries";
  }
  return gave_up;
}

// A failure that is not a group's own (a commit that fails) stops the
// batch there: the events after it are not applied, so that none of them
// is committed before an earlier one of its group.
std::vector<ApplyResult> Engine::apply_each(const std::vector<Event>& events,
                                            std::set<std::string> held) {
  std::vector<ApplyResult> results;
  std::string stopped;  // why a commit failed
  for (const auto& event : events) {
    if (!stopped.empty()) {
      ApplyResult r;
      r.outcome = Outcome::failed;
      r.failure = Failure::commit;
      r.error = stopped;
      results.push_back(std::move(r));
      continue;
    }
    auto r = apply_batch({event}, held).front();
    if (is_group_failure(r.failure) && !r.group.empty()) {
      held.insert(r.group);
    } else if (r.outcome == Outcome::failed) {
      stopped = r.error.empty() ? "an earlier event of the batch failed" : r.error;
    }
    results.push_back(std::move(r));
  }
  return results;
}

CommitOutcome Engine::commit_view(Overlay& view) {
  std::string message = view.changes.size() == 1
                            ? view.changes.front()
                            : std::to_string(view.changes.size()) + " callout changes\n";
  if (view.changes.size() > 1) {
    for (const auto& line : view.changes) {
      message += "\n- " + line.substr(0, line.find('\n'));
    }
    message += "\n";
  }
  if (view.shifts) {
    view.write(k_shifts_path, view.shifts->serialize());
  }
  // The README.md index, when what it lists changed.
  if (!view.states.empty()) {
    auto states = m_states;
    for (const auto& [id, state] : view.states) {
      states[id] = state;
    }
    write_index(view, states);
  }
  auto replacements = reclaim_own_folder(view, message);
  auto committed = m_repository.commit(
      CommitRequest{view.head(), view.files(), message, view.removals(), replacements});
  if (committed.status == CommitStatus::committed) {
    m_reclaimed.insert(m_reclaimed.end(), replacements.begin(), replacements.end());
    for (auto& [id, state] : view.states) {
      m_states[id] = state;
    }
    if (view.shifts) {
      m_shifts = *view.shifts;
    }
  }
  return committed;
}

// .calloutd/ is the daemon's own folder. When people's commits put a symlink
// or a file in the way of it (or of a folder in it), the entry is replaced
// by the daemon's folder, never followed, and every state the daemon holds is
// written again (the entry hid what the folder held); the message says so.
std::vector<std::string> Engine::reclaim_own_folder(Overlay& view, std::string& message) {
  std::set<std::string> in_the_way;
  for (const auto& file : view.files()) {
    if (!file.path.starts_with(".calloutd/")) {
      continue;
    }
    if (auto prefix = view.unsafe(file.path, PathKind::file);
        prefix && prefix->starts_with(".calloutd")) {
      in_the_way.insert(*prefix);
    }
  }
  if (in_the_way.empty()) {
    return {};
  }
  for (const auto& [id, state] : m_states) {
    if (!view.states.contains(id)) {
      view.write(state_path(id), serialize_state(state));
    }
  }
  for (const auto& [id, state] : view.states) {
    view.write(state_path(id), serialize_state(state));
  }
  view.write(k_shifts_path, (view.shifts ? *view.shifts : m_shifts).serialize());
  std::vector<std::string> replaced(in_the_way.begin(), in_the_way.end());
  log::warn(
      ".calloutd/ is the daemon's folder: a symlink or a file in its place is replaced by the "
      "daemon's own folder, with every state it holds written again (docs/state.md)",
      {{"replaced", join(replaced, ", ")}});
  message += "\n" + join(replaced, ", ") +
             " (a symlink or a file in the way) replaced by calloutd's own folder: .calloutd/ is "
             "the daemon's (docs/state.md)\n";
  return replaced;
}

void Engine::write_index(Overlay& view, const std::map<std::string, GroupState>& states) const {
  if (view.unsafe("README.md", PathKind::file)) {
    log::warn("README.md is a symlink or a folder in the repository; the index is not updated",
              {{"path", "README.md"}});
    return;
  }
  auto readme = view.read("README.md");
  if (!readme.ok()) {
    // Not written over: the index is made again with the next commit.
    log::warn("cannot read README.md; the index is not updated", {{"error", readme.error()}});
  } else if (auto updated = with_index(*readme, index_section(states)); updated != *readme) {
    view.write("README.md", updated);
  }
}

std::string Engine::state_id_for(const Event& event, const Overlay& view) {
  if (const auto* g = event.alert_group()) {
    return state_id_for(*g, view);
  }
  if (const auto* pd = event.pagerduty()) {
    return state_id_for(*pd);
  }
  if (const auto* request = event.role_request()) {
    return state_id_of(request->incident_id);
  }
  if (const auto* m = event.manual()) {
    return manual_incident_id(*m);
  }
  if (const auto* change = event.postmortem()) {
    return state_id_of(change->incident_id);
  }
  if (const auto* o = event.observation()) {
    return state_id_of("", o->folder);
  }
  if (const auto* r = event.resolve()) {
    return state_id_of(r->incident_id);
  }
  if (const auto* a = event.ack()) {
    return state_id_of(a->incident_id);
  }
  return "";
}

Engine::Plan Engine::decide(const Event& event, const std::string& sid,
                            const std::optional<GroupState>& prior, const Overlay& view) const {
  if (const auto* g = event.alert_group()) {
    return decide_alerts(event, *g, sid, prior);
  }
  if (const auto* pd = event.pagerduty()) {
    return decide_pagerduty(event, *pd, sid, prior);
  }
  if (const auto* m = event.manual()) {
    return decide_manual(*m, sid, prior);
  }
  // The rest are about an incident the engine knows: without its state (an
  // unknown id, a folder people made by hand) there is nothing to change.
  if (!prior) {
    Plan ignored;
    ignored.outcome = Outcome::ignored;
    return ignored;
  }
  if (const auto* request = event.role_request()) {
    return decide_roles(event, *request, *prior);
  }
  if (const auto* change = event.postmortem()) {
    return decide_postmortem(event, *change, *prior, view);
  }
  if (const auto* o = event.observation()) {
    return decide_observation(event, *o, *prior);
  }
  if (const auto* r = event.resolve()) {
    return decide_resolve(event, *r, *prior);
  }
  if (const auto* a = event.ack()) {
    return decide_ack(event, *a, *prior);
  }
  return Plan{};
}

// The event's group first: an event of a held group, or of one whose state
// cannot be read, fails for that group alone, and holds the group's later
// events of the batch behind it.
ApplyResult Engine::apply_to(const Event& event, Overlay& view, std::set<std::string>& held) {
  auto sid = state_id_for(event, view);
  ApplyResult result;
  if (!sid.empty() && held.contains(sid)) {
    result.outcome = Outcome::failed;
    result.failure = Failure::behind_held;
    result.error = "an earlier event of the group is held";
  } else if (auto prior = sid.empty() ? Result<std::optional<GroupState>>(std::nullopt)
                                      : state_for(sid, view);
             !prior.ok()) {
    result.outcome = Outcome::failed;
    result.failure = Failure::state_unreadable;
    result.error = prior.error();
  } else {
    result = apply_with(event, sid, *prior, view);
  }
  result.group = sid;
  if (!sid.empty() && is_group_failure(result.failure)) {
    held.insert(sid);
  }
  return result;
}

ApplyResult Engine::apply_with(const Event& event, const std::string& sid,
                               const std::optional<GroupState>& prior, Overlay& view) {
  Plan plan = decide(event, sid, prior, view);
  plan.at = event.received_at;
  if (prior && prior->acknowledged_at != TimePoint{}) {
    plan.acknowledged_at.reset();  // the first acknowledgement counts, once
  }
  if (plan.acknowledged_at && plan.state.acknowledged_at == TimePoint{}) {
    plan.state.acknowledged_at = *plan.acknowledged_at;
  }
  if (!plan.error.empty()) {
    ApplyResult failed{Outcome::failed, plan.state.incident_id, plan.state.folder, "", plan.error};
    failed.failure = Failure::write_up_unreadable;
    return failed;
  }
  if (!changes_files(plan.outcome)) {
    return ApplyResult{plan.outcome, plan.state.incident_id, plan.state.folder, "", ""};
  }
  if (plan.outcome == Outcome::opened || plan.outcome == Outcome::reopened) {
    prefill_from_rota(plan, event.received_at);
  }
  auto shifts_before = view.shifts;
  apply_roles(plan, view);
  if (auto written = write(plan, view); !written.ok()) {
    view.shifts = std::move(shifts_before);  // nothing of this event stays in the batch
    ApplyResult failed{Outcome::failed, plan.state.incident_id, plan.state.folder, "",
                       written.error()};
    failed.failure = Failure::write_up_unreadable;
    return failed;
  }
  std::string what = !plan.summary.empty() ? plan.summary
                     : plan.outcome == Outcome::opened
                         ? "opened (" + severity_name(plan.state.severity) + ")"
                     : plan.outcome == Outcome::reopened
                         ? "reopened"
                         : plural(plan.entries.size(), "timeline entry", "timeline entries");
  view.changes.push_back(plan.state.folder + ": " + what +
                         "\n\nCalloutd-Incident: " + plan.state.incident_id +
                         "\nCalloutd-Group: " + plan.state.group_id + "\n");
  view.states[plan.state.group_id] = plan.state;
  index(plan.state);
  ApplyResult result{plan.outcome, plan.state.incident_id, plan.state.folder, "", ""};
  result.severity = severity_name(plan.state.severity);
  result.unsafe_paths = plan.unsafe_paths;
  auto seconds = [&](TimePoint t) {
    return std::chrono::duration<double>(t - plan.state.opened_at).count();
  };
  if (plan.acknowledged_at) {
    result.acknowledged_after_seconds = seconds(*plan.acknowledged_at);
  }
  if (plan.resolves) {
    result.resolved_after_seconds = seconds(plan.state.resolved_at);
  }
  result.review_gate_bypassed = plan.gate_bypassed;
  return result;
}

Result<Ok> Engine::write(Plan& plan, Overlay& view) const {
  const bool moved = place_callout(plan, view);
  // Everything is read before anything is written: an event whose files
  // cannot be read leaves the batch as it was.
  auto callout = callout_to_edit(plan, view, moved);
  if (!callout.ok()) {
    return Error{callout.error()};
  }
  std::vector<markdown::ListEntry> entries;
  entries.reserve(plan.entries.size());
  for (const auto& [t, line] : plan.entries) {
    entries.push_back({t, line});
  }
  *callout =
      markdown::add_list_entries(*callout, k_timeline_key, entries, markdown::Order::newest_first);
  for (const auto& [key, value] : plan.keys) {
    *callout = markdown::set_key(*callout, key, value);
  }
  for (const auto& [role, holder] : plan.roles) {
    *callout = markdown::set_list_item(*callout, keys::k_team_roles, role, holder);
  }
  *callout =
      keep_current(std::move(*callout), Progress{plan.at, plan.alerts_resolved, plan.resolves,
                                                 plan.reopens || plan.outcome == Outcome::reopened,
                                                 incident_end(plan.state)});
  auto postmortem = postmortem_to_write(plan, view, *callout);
  if (!postmortem.ok()) {
    return Error{postmortem.error()};
  }
  view.write(layout::callout_path(plan.state.folder), *callout);
  if (*postmortem) {
    view.write(layout::postmortem_path(plan.state.folder), **postmortem);
  }
  view.write(state_path(plan.state.group_id), serialize_state(plan.state));
  // A flat file of a version before the shards moves with the group's next write.
  if (m_repository.file_id(view.head(), flat_state_path(plan.state.group_id))) {
    view.remove(flat_state_path(plan.state.group_id));
  }
  return Ok{};
}

bool Engine::place_callout(Plan& plan, const Overlay& view) const {
  // An open callout whose folder someone replaced by a symlink (or a file)
  // since it opened moves to a new folder, like a new one.
  auto unsafe_old =
      plan.outcome == Outcome::opened ? std::nullopt : unsafe_folder(plan.state.folder, view);
  if (unsafe_old) {
    add_unique(plan.unsafe_paths, *unsafe_old);
  }
  const bool moved = unsafe_old.has_value();
  if (plan.outcome == Outcome::opened || moved) {
    plan.state.folder = new_folder(plan, view);
    for (const auto& path : plan.unsafe_paths) {
      log::warn(
          "refusing to write the callout through a symlink, submodule or file in the "
          "repository; it goes to a safe folder instead",
          {{"path", path}, {"folder", plan.state.folder}});
    }
  }
  return moved;
}

Result<std::string> Engine::callout_to_edit(Plan& plan, Overlay& view, bool moved) const {
  if (plan.outcome == Outcome::opened || moved) {
    auto values = render_view(plan, view);
    if (plan.outcome == Outcome::opened) {
      plan.state.dashboard_url = redact_url_credentials(values.dashboard_url);
    }
    // Written now: the postmortem's edits below read it from the view. Its
    // Timeline tells the incident without the callout's bookkeeping.
    auto postmortem_values = values;
    postmortem_values.first_timeline_entry = for_postmortem(values.first_timeline_entry);
    view.write(layout::postmortem_path(plan.state.folder),
               m_templates->render_postmortem(postmortem_values));
    return m_templates->render_callout(values);
  }
  auto callout = view.read(layout::callout_path(plan.state.folder));
  if (!callout.ok()) {
    return Error{callout.error()};  // never taken for a deleted one: that would lose its text
  }
  if (!*callout) {
    // Deleted by someone: write it again rather than lose the event.
    log::warn("the callout is missing from the repository; writing it again",
              {{"folder", plan.state.folder}});
    return m_templates->render_callout(render_view(plan, view));
  }
  return std::move(**callout);
}

CalloutView Engine::render_view(const Plan& plan, const Overlay& view) {
  auto v = plan.make_view(plan.state);
  const std::string dir = parent_of(plan.state.folder);
  v.previous_occurrences = previous_occurrences(
      dir, previous_callouts(plan.state.issue, plan.state.folder, view.names(dir)));
  return v;
}

Result<std::optional<std::string>> Engine::postmortem_to_write(const Plan& plan,
                                                               const Overlay& view,
                                                               const std::string& callout) {
  const bool resolving = plan.resolves;
  if (!resolving && plan.postmortem_keys.empty()) {
    return std::optional<std::string>{};
  }
  auto postmortem = view.read(layout::postmortem_path(plan.state.folder));
  if (!postmortem.ok() || !*postmortem) {
    return postmortem;  // an error, or none (deleted by someone: nothing to edit)
  }
  std::string text = std::move(**postmortem);
  for (const auto& [key, value] : plan.postmortem_keys) {
    text = markdown::set_key(text, key, value);
  }
  if (resolving) {
    text = seed_postmortem(text, callout, plan.state);
  }
  return std::optional(std::move(text));
}

// The folder follows layout::allocate_folder (its comment says how).
// Every choice depends only on the head's tree and the batch's own files, so
// the same event computed again (a replay after a crash, a re-apply after a
// rebase, a recompute after the branch moved) picks the same folder; once
// committed, the group's state keeps it.
std::string Engine::new_folder(Plan& plan, const Overlay& view) const {
  const GroupState& s = plan.state;
  auto chosen =
      layout::allocate_folder(s.technology, s.issue, format_date(s.opened_at), ground_of(view));
  for (const auto& path : chosen.unsafe_paths) {
    add_unique(plan.unsafe_paths, path);
  }
  return chosen.folder;
}

std::optional<std::string> Engine::unsafe_folder(const std::string& folder,
                                                 const Overlay& view) const {
  return layout::unsafe_write_up(folder, ground_of(view));
}

std::vector<IncidentSummary> Engine::open_incidents() const {
  std::vector<IncidentSummary> out;
  for (const auto& [id, s] : m_states) {
    if (!s.resolved) {
      IncidentSummary i{
          s.incident_id, s.folder, s.technology, severity_name(s.severity), s.opened_at, {}, {}};
      for (const auto& [role, holder] : s.roles) {
        i.roles[role] = holder.first;
      }
      i.handover_due = (s.last_handover == TimePoint{} ? s.opened_at : s.last_handover) +
                       m_config->shifts.work_limit;
      out.push_back(std::move(i));
    }
  }
  return out;
}

}  // namespace calloutd
