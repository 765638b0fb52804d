// The engine's upkeep of its own files under .calloutd/: state of groups
// resolved long ago pruned, flat state files moved to their shards, the
// shift book trimmed (docs/state.md). One commit, on the strand.
#include <algorithm>

#include "daemon/base/log.hpp"
#include "daemon/base/plural.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/writeup/repo_index.hpp"

namespace calloutd {
namespace {

constexpr int k_tidy_attempts = 4;

}  // namespace

void Engine::forget(const std::string& id) {
  m_states.erase(id);
  std::erase_if(m_targets_passed, [&](const auto& passed) { return passed.first == id; });
}

// A group is pruned from the state in memory (the repository's truth as last
// committed); a file that could not be read is left alone. A flat file of a
// group kept moves to its shard as it is (byte for byte); one whose shard
// exists already is older than it and goes.
std::vector<std::string> Engine::plan_tidy(Overlay& view, TimePoint now,
                                           std::optional<std::chrono::seconds> keep,
                                           StateTidy& out) {
  std::vector<std::string> pruned;
  auto files = state_files(view.head());
  // A pending postmortem stays listed in the README index, however old.
  const auto listed = index_kept(m_states);
  for (const auto& [id, path] : files) {
    auto it = m_states.find(id);
    const bool prune =
        keep && it != m_states.end() && !listed.contains(id) && prunable(it->second, now, *keep);
    const auto flat = flat_state_path(id);
    const bool has_flat = path == flat || m_repository.file_id(view.head(), flat).has_value();
    if (prune) {
      pruned.push_back(id);
      view.remove(state_path(id));
    } else if (path == flat) {
      auto text = view.read(flat);
      if (!text.ok() || !*text) {
        continue;  // unreadable: left where it is (read where it is)
      }
      view.write(state_path(id), std::move(**text));
      ++out.moved;
    }
    if (has_flat) {
      view.remove(flat);
    }
  }
  out.pruned = pruned.size();
  out.files = files.size() - pruned.size();
  ShiftBook shifts = m_shifts;
  out.shifts_trimmed = keep ? shifts.forget_idle_before(now - *keep) : 0;
  if (out.shifts_trimmed > 0) {
    view.write(k_shifts_path, shifts.serialize());
  }
  if (!pruned.empty()) {
    auto states = m_states;
    for (const auto& id : pruned) {
      states.erase(id);
    }
    write_index(view, states);
  }
  return pruned;
}

Engine::StateTidy Engine::tidy_state(TimePoint now, When when) {
  StateTidy out;
  out.files = m_states.size();
  if (when == When::due && m_last_tidy && now - *m_last_tidy < k_tidy_interval) {
    return out;
  }
  m_last_tidy = now;  // a failure is tried again at the next interval, not at every tick
  const auto keep = prune_retention(m_config->reopen_window, m_config->state_retention);
  for (int attempt = 0; attempt < k_tidy_attempts; ++attempt) {
    out = StateTidy{};
    Overlay view(m_repository, m_repository.head());
    auto pruned = plan_tidy(view, now, keep, out);
    if (view.files().empty() && view.removals().empty()) {
      return out;
    }
    std::string message =
        "Prune .calloutd/: " + plural(out.pruned, "resolved group", "resolved groups") +
        " removed, " + plural(out.moved, "state file", "state files") + " moved to shards\n\n" +
        (keep ? "Groups resolved before " + format_rfc3339_millis(now - *keep) +
                    " (repository.state_retention, the reopen window, PagerDuty's 48 h) are "
                    "forgotten; their callouts stay.\n"
              : std::string("Groups are kept forever (repository.state_retention: forever).\n"));
    auto replacements = reclaim_own_folder(view, message);
    auto committed = m_repository.commit(
        CommitRequest{view.head(), view.files(), message, view.removals(), replacements});
    if (committed.status == CommitStatus::parent_moved) {
      continue;  // someone committed meanwhile: plan again on the new head
    }
    if (committed.status != CommitStatus::committed) {
      out.error = committed.error;
      log::error("cannot prune .calloutd/; tried again in an hour", {{"error", out.error}});
      return out;
    }
    out.commit = committed.id;
    m_reclaimed.insert(m_reclaimed.end(), replacements.begin(), replacements.end());
    for (const auto& id : pruned) {
      forget(id);
    }
    if (out.shifts_trimmed > 0) {
      m_shifts.forget_idle_before(now - *keep);
    }
    rebuild_index();
    log::info("pruned .calloutd/", {{"pruned", std::to_string(out.pruned)},
                                    {"moved", std::to_string(out.moved)},
                                    {"shifts_trimmed", std::to_string(out.shifts_trimmed)},
                                    {"commit", committed.id}});
    return out;
  }
  out.error = "the branch kept moving; tried again in an hour";
  return out;
}

}  // namespace calloutd
