// Events held for their own group: an event that cannot be applied because
// of its group (its state file unreadable, its write-up unreadable, its
// folder unsafe) waits, with the group's later events behind it, while the
// other groups' events go on. Retried with backoff, and at once when someone
// else moves the branch (their commit may be the repair); never dropped: the
// journal's applied mark stays before the oldest held event.
#include <algorithm>

#include "daemon/base/log.hpp"
#include "daemon/pipeline/pipeline.hpp"

namespace calloutd {
namespace {

// A held group is tried again after 1 s, 2 s, 4 s... up to this.
constexpr std::chrono::milliseconds k_max_group_delay{60'000};
// Events of a held group applied as one commit at most, once it reads again.
constexpr std::size_t k_max_group_batch = 128;

}  // namespace

void Pipeline::hold_for_group(const Queued& q, const ApplyResult& result) {
  auto [it, first] = m_groups.try_emplace(result.group);
  auto& hold = it->second;
  if (first) {
    hold.since = std::chrono::system_clock::now();
    hold.delay = std::chrono::milliseconds(1000);
    hold.next_try = std::chrono::steady_clock::now() + hold.delay;
  }
  // An event behind the held one says nothing new of the group.
  if (result.failure != Failure::behind_held) {
    if (first || hold.reason != result.failure) {
      log::error(
          "an event cannot be applied because of its group; the group's events are held "
          "and retried, other groups go on",
          {{"group", result.group},
           {"reason", failure_name(result.failure)},
           {"seq", std::to_string(q.event.sequence)},
           {"error", result.error}});
    }
    hold.reason = result.failure;
    hold.error = result.error;
  }
  if (!result.incident_id.empty()) {
    hold.incident_id = result.incident_id;
    hold.folder = result.folder;
  }
  hold.events.push_back(q);
  schedule_group_retry();
}

std::set<std::string> Pipeline::held_group_ids(const std::string& except) const {
  std::set<std::string> ids;
  for (const auto& [id, hold] : m_groups) {
    if (id != except) {
      ids.insert(id);
    }
  }
  return ids;
}

void Pipeline::branch_moved(const std::string& head) {
  if (!m_groups.empty() && head != m_own_commit) {
    retry_groups(Due::now);
  }
}

void Pipeline::retry_groups(Due due) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> ids;
  for (const auto& [id, hold] : m_groups) {
    if (due == Due::now || hold.next_try <= now) {
      ids.push_back(id);
    }
  }
  for (const auto& id : ids) {
    retry_group(id);
  }
  publish_held();
  schedule_group_retry();
}

// The group's first events leave the hold while they are applied: those
// that fail again come back to it (the engine holding the rest of the
// batch behind the first), after the events still held, and are moved back
// before them; a commit that fails puts them all back. The events still held
// stay in the hold meanwhile, so that the applied mark cannot pass them.
void Pipeline::retry_group(const std::string& id) {
  auto& hold = m_groups.at(id);
  const auto n = std::min(k_max_group_batch, hold.events.size());
  std::vector<Queued> batch(hold.events.begin(), hold.events.begin() + static_cast<long>(n));
  hold.events.erase(hold.events.begin(), hold.events.begin() + static_cast<long>(n));
  const auto still_held = static_cast<long>(hold.events.size());
  m_metrics.count_commit_retry();
  auto applied = apply(batch, id);
  auto& after = m_groups.at(id);
  if (!applied.committed) {
    after.events.insert(after.events.begin(), batch.begin(), batch.end());
  } else {
    std::rotate(after.events.begin(), after.events.begin() + still_held, after.events.end());
  }
  const auto done = applied.committed ? n - applied.held : 0;
  m_pending -= done;
  m_metrics.set_journal_pending(static_cast<double>(m_pending.load()));
  if (after.events.empty()) {
    log::info("a held group reads again; its events are applied",
              {{"group", id}, {"events", std::to_string(done)}});
    m_groups.erase(id);
    return;
  }
  if (done == 0) {
    after.delay = std::min(k_max_group_delay, after.delay * 2);
  }
  after.next_try = std::chrono::steady_clock::now() + after.delay;
}

void Pipeline::schedule_group_retry() {
  if (m_stopping || m_groups.empty()) {
    return;
  }
  auto next = std::min_element(m_groups.begin(), m_groups.end(), [](const auto& a, const auto& b) {
                return a.second.next_try < b.second.next_try;
              })->second.next_try;
  m_group_timer.expires_at(next);
  m_group_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      retry_groups(Due::when_due);
    }
  });
}

void Pipeline::publish_held() {
  std::vector<HeldGroup> held;
  std::map<std::string, std::size_t> by_reason;
  for (const auto& [id, hold] : m_groups) {
    if (hold.events.empty()) {
      continue;
    }
    held.push_back({id, failure_name(hold.reason), hold.error, hold.incident_id, hold.folder,
                    hold.events.size(), hold.events.front().event.sequence, hold.since});
    by_reason[failure_name(hold.reason)] += hold.events.size();
  }
  m_metrics.set_events_held(by_reason);
  std::lock_guard lock(m_held_mutex);
  m_held_snapshot = std::move(held);
}

std::vector<Submitter::HeldGroup> Pipeline::held_groups() const {
  std::lock_guard lock(m_held_mutex);
  return m_held_snapshot;
}

}  // namespace calloutd
