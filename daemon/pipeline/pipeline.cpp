#include "daemon/pipeline/pipeline.hpp"

#include <malloc.h>

#include <boost/asio/post.hpp>
#include <map>

#include "daemon/base/hash.hpp"
#include "daemon/base/keep_running.hpp"
#include "daemon/base/log.hpp"
#include "receivers/alertmanager.hpp"
#include "receivers/api.hpp"
#include "receivers/observation.hpp"
#include "receivers/pagerduty.hpp"

namespace calloutd {
namespace {

// Events applied as one commit at most. Bigger batches commit more per fsync
// but make the first event of a batch wait for the others' edits.
constexpr std::size_t k_max_batch = 128;
// Failed commits are retried after 1 s, 2 s, 4 s... up to this.
constexpr std::chrono::milliseconds k_max_retry_delay{60'000};

// The journaled body parsed again by the receiver that accepted it.
Result<Payload> parse(const JournalRecord& r) {
  if (r.source == "alertmanager") {
    auto group = receivers::parse_alertmanager(r.body);
    if (!group) {
      return Error{group.error()};
    }
    return Payload(std::move(*group));
  }
  if (r.source == "pagerduty") {
    auto event = receivers::parse_pagerduty(r.body);
    if (!event) {
      return Error{event.error()};
    }
    event->signed_ok = r.verified;
    return Payload(std::move(*event));
  }
  if (r.source == receivers::k_observation_source) {
    auto observation = receivers::parse_observation(r.body);
    if (!observation) {
      return Error{observation.error()};
    }
    return Payload(std::move(*observation));
  }
  if (r.source == receivers::k_api_source) {
    return receivers::parse_api_record(r.body);
  }
  return Error{"unknown receiver \"" + r.source + "\""};
}

}  // namespace

Pipeline::Pipeline(Journal& journal, Engine& engine, Metrics& metrics, std::size_t max_pending)
    : m_journal(journal), m_engine(engine), m_metrics(metrics), m_max_pending(max_pending) {
  m_work.emplace(m_io.get_executor());
  publish();
}

Pipeline::~Pipeline() {
  stop();
}

void Pipeline::replay() {
  auto records = m_journal.take_unapplied();
  if (!records.empty()) {
    log::info("replaying journaled events", {{"count", std::to_string(records.size())}});
  }
  std::vector<Queued> batch;
  for (auto& r : records) {
    auto payload = parse(r);
    if (!payload) {
      log::error(
          "journal record no longer parses; skipped",
          {{"seq", std::to_string(r.sequence)}, {"source", r.source}, {"error", payload.error()}});
      continue;
    }
    batch.push_back({Event{r.sequence, r.received_at, std::move(*payload)}, "", "", std::nullopt});
    if (batch.size() == k_max_batch) {
      replay_batch(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) {
    replay_batch(batch);
  }
  // Every record the held file named as applied is so still; those it named
  // as held were just replayed (held again, or applied).
  m_processed = std::max(m_processed, m_journal.noted_processed());
  if (m_processed > m_journal.applied()) {
    mark_applied(m_processed);
  }
  publish();
}

// Replayed events were never counted as pending: they are once held.
void Pipeline::replay_batch(const std::vector<Queued>& batch) {
  if (!m_stuck) {
    if (auto applied = apply(batch); applied.committed) {
      m_pending += applied.held;
      m_metrics.set_journal_pending(static_cast<double>(m_pending.load()));
      return;
    }
  }
  hold(batch);
  m_pending += batch.size();
  m_metrics.set_journal_pending(static_cast<double>(m_pending.load()));
}

// Behind an event that could not be committed, in journal order: held until
// a retry commits them, the first failure starting the retries.
void Pipeline::hold(const std::vector<Queued>& batch) {
  m_held.insert(m_held.end(), batch.begin(), batch.end());
  if (!m_stuck) {
    m_stuck = true;
    schedule_retry();
  }
}

std::size_t Pipeline::reapply(const std::vector<JournalRecord>& records) {
  std::size_t changed = 0;
  std::vector<Event> batch;
  // A held group's events wait for it, in order: none is applied here.
  const auto held = held_group_ids("");
  auto flush = [&] {
    for (const auto& r : m_engine.apply_batch(batch, held)) {
      m_metrics.count_unsafe_paths(r.unsafe_paths.size());
      if (r.outcome == Outcome::failed && is_group_failure(r.failure)) {
        log::debug("an event of a held group waits for it",
                   {{"group", r.group}, {"reason", failure_name(r.failure)}});
      } else if (r.outcome == Outcome::failed) {
        log::error("cannot apply an event again on the remote's head", {{"error", r.error}});
      } else if (!r.commit.empty()) {
        ++changed;
      }
    }
    batch.clear();
  };
  for (const auto& r : records) {
    auto payload = parse(r);
    if (!payload) {
      continue;  // reported when it was first replayed
    }
    batch.push_back(Event{r.sequence, r.received_at, std::move(*payload)});
    if (batch.size() == k_max_batch) {
      flush();
    }
  }
  if (!batch.empty()) {
    flush();
  }
  return changed;
}

void Pipeline::start() {
  if (!m_thread.joinable()) {
    m_thread = std::thread([this] { keep_running("engine", [this] { m_io.run(); }); });
  }
}

void Pipeline::stop() {
  // A retry pending on a repository that still refuses commits must not hold
  // the stop: what is held stays in the journal for the next start.
  boost::asio::post(m_io, [this] {
    m_stopping = true;
    m_group_timer.cancel();
    if (!m_groups.empty()) {
      log::warn("events held for their group stay in the journal for the next start",
                {{"groups", std::to_string(m_groups.size())}});
    }
    if (m_stuck) {
      m_retry_timer.cancel();
      retry_held();
    }
  });
  m_work.reset();  // run() returns once the queue is empty
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

std::variant<std::uint64_t, Pipeline::Refusal> Pipeline::submit(std::string_view source,
                                                                std::string_view body,
                                                                Payload payload, bool verified,
                                                                CopyKeys keys) {
  auto arrived = std::chrono::steady_clock::now();
  if (m_pending.load() >= m_max_pending) {
    return Refusal::overloaded;
  }
  const auto* group = std::get_if<AlertGroup>(&payload);
  if (group != nullptr && keys.content.empty()) {
    keys = {sha256_hex(body), receivers::content_key(*group)};
  }
  Event event;
  event.received_at = std::chrono::system_clock::now();
  event.payload = std::move(payload);
  auto seq = enqueue(source, body, std::move(event), verified, std::move(keys), arrived);
  if (!seq) {
    log::error("cannot journal an event; refusing it", {{"error", seq.error()}});
    return Refusal::journal_failed;
  }
  return *seq;
}

bool Pipeline::observe(const std::vector<FileObservation>& seen) {
  for (auto& o : m_engine.news(seen)) {
    log::info("a person changed a file; recording it",
              {{"folder", o.folder}, {"key", o.field()}, {"commit", o.commit.substr(0, 12)}});
    auto body = receivers::observation_record(o);
    Event event{0, std::chrono::system_clock::now(), std::move(o)};
    auto seq =
        enqueue(receivers::k_observation_source, body, std::move(event), false, {}, std::nullopt);
    if (!seq) {
      log::error("cannot journal a change people made; it is read again at the next scan",
                 {{"error", seq.error()}});
      return false;
    }
  }
  return true;
}

Result<std::uint64_t> Pipeline::enqueue(
    std::string_view source, std::string_view body, Event event, bool verified, CopyKeys keys,
    std::optional<std::chrono::steady_clock::time_point> arrived) {
  std::lock_guard lock(m_submit_mutex);
  auto seq = m_journal.append(source, event.received_at, body, verified);
  if (!seq) {
    return Error{seq.error()};
  }
  event.sequence = *seq;
  m_metrics.set_journal_pending(static_cast<double>(++m_pending));
  if (const auto* queued_group = event.alert_group()) {
    std::lock_guard applied_lock(m_applied_mutex);
    m_last_applied.erase(queued_group->group_key);  // something newer for the group is queued
  }
  {
    // Queue order is journal order: both happen under m_submit_mutex.
    std::lock_guard queue_lock(m_queue_mutex);
    m_queue.push_back({std::move(event), std::move(keys.content), std::move(keys.body), arrived});
  }
  boost::asio::post(m_io, [this] { drain(); });
  return *seq;
}

void Pipeline::drain() {
  std::vector<Queued> batch;
  {
    std::lock_guard lock(m_queue_mutex);
    while (!m_queue.empty() && batch.size() < k_max_batch) {
      batch.push_back(std::move(m_queue.front()));
      m_queue.pop_front();
    }
  }
  if (batch.empty()) {
    return;  // an earlier drain took these events
  }
  Applied applied;
  if (m_stuck || !(applied = apply(batch)).committed) {
    hold(batch);
    return;
  }
  m_pending -= batch.size() - applied.held;
  m_metrics.set_journal_pending(static_cast<double>(m_pending.load()));
  // After a storm has drained, hand the heap it grew back to the system
  // (glibc keeps freed memory in its arenas otherwise).
  constexpr std::size_t k_trim_after = 1000;
  m_applied_since_trim += batch.size();
  if (m_pending.load() == 0 && m_applied_since_trim >= k_trim_after) {
    m_applied_since_trim = 0;
    malloc_trim(0);
  }
}

std::optional<std::uint64_t> Pipeline::duplicate_of(const std::string& group_key,
                                                    const std::string& content_key) const {
  std::lock_guard lock(m_applied_mutex);
  auto it = m_last_applied.find(group_key);
  if (it == m_last_applied.end() || it->second.first != content_key) {
    return std::nullopt;
  }
  return it->second.second;
}

std::optional<std::uint64_t> Pipeline::duplicate_of_body(const std::string& body_key) const {
  std::pair<std::string, std::string> seen;  // group key, content key
  {
    std::lock_guard lock(m_applied_mutex);
    auto it = m_bodies.find(body_key);
    if (it == m_bodies.end()) {
      return std::nullopt;
    }
    seen = it->second;
  }
  return duplicate_of(seen.first, seen.second);
}

void Pipeline::remember_applied(const Queued& q) {
  const auto* group = q.event.alert_group();
  if (group == nullptr || q.content_key.empty() || m_stuck) {
    return;
  }
  constexpr std::size_t k_remembered_groups = 65536;
  std::lock_guard lock(m_applied_mutex);
  if (m_last_applied.size() >= k_remembered_groups || m_bodies.size() >= k_remembered_groups) {
    m_last_applied.clear();  // a cache: forgetting only costs a journal write
    m_bodies.clear();
  }
  m_last_applied[group->group_key] = {q.content_key, q.event.sequence};
  m_bodies[q.body_key] = {group->group_key, q.content_key};
}

Pipeline::Applied Pipeline::apply(const std::vector<Queued>& batch, const std::string& retrying) {
  std::vector<Event> events;
  for (const auto& q : batch) {
    events.push_back(q.event);
  }
  auto results = m_engine.apply_batch(events, held_group_ids(retrying));
  auto done = std::chrono::steady_clock::now();
  bool committed = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].outcome != Outcome::failed && !results[i].commit.empty()) {
      committed = true;
      record_commit(batch[i], results[i], done);
    }
  }
  if (committed) {
    m_metrics.count_commit();
    publish();
  }
  if (failed_globally(batch, results)) {
    // Keep the applied mark before this batch until it is committed; the
    // batch and what follows are held and retried (a restart replays them).
    return {};
  }
  Applied applied{true, 0};
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].outcome == Outcome::failed) {
      hold_for_group(batch[i], results[i]);
      ++applied.held;
    } else {
      remember_applied(batch[i]);
    }
  }
  if (applied.held > 0) {
    publish_held();
  }
  // A held group's events applied later are older than what was applied
  // meanwhile: the mark goes as far as everything processed allows.
  m_processed = std::max(m_processed, events.back().sequence);
  mark_applied(m_processed);
  return applied;
}

bool Pipeline::failed_globally(const std::vector<Queued>& batch,
                               const std::vector<ApplyResult>& results) {
  bool failed = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& result = results[i];
    m_metrics.count_event(outcome_name(result.outcome));
    m_metrics.count_unsafe_paths(result.unsafe_paths.size());
    if (result.outcome != Outcome::failed ||
        (is_group_failure(result.failure) && !result.group.empty())) {
      continue;
    }
    if (m_retry_delay.count() == 0) {
      log::error("cannot commit an event; it is journaled and will be retried",
                 {{"seq", std::to_string(batch[i].event.sequence)}, {"error", result.error}});
    }
    failed = true;
  }
  return failed;
}

void Pipeline::record_commit(const Queued& q, const ApplyResult& result,
                             std::chrono::steady_clock::time_point done) {
  m_own_commit = result.commit;
  if (result.acknowledged_after_seconds) {
    m_metrics.observe_time_to_acknowledge(result.severity, *result.acknowledged_after_seconds);
  }
  if (result.resolved_after_seconds) {
    m_metrics.observe_time_to_resolve(result.severity, *result.resolved_after_seconds);
  }
  if (!result.review_gate_bypassed.empty()) {
    m_metrics.count_review_gate_bypassed(result.review_gate_bypassed);
  }
  if (q.arrived) {
    m_metrics.observe_webhook_to_commit(std::chrono::duration<double>(done - *q.arrived).count());
  }
  log::info("committed", {{"folder", result.folder},
                          {"outcome", outcome_name(result.outcome)},
                          {"incident", result.incident_id},
                          {"commit", result.commit.substr(0, 12)}});
}

// The oldest of every held event, not a group's first: while a group is
// retried its events that fail again come back behind the ones still held.
void Pipeline::mark_applied(std::uint64_t processed) {
  auto mark = processed;
  std::vector<std::uint64_t> held;
  if (!m_held.empty()) {
    mark = std::min(mark, m_held.front().event.sequence - 1);
  }
  // Held for everyone, yet at or before `processed`: after a replay that
  // could not commit, the events the held file named as held.
  for (const auto& q : m_held) {
    if (q.event.sequence > processed) {
      break;
    }
    held.push_back(q.event.sequence);
  }
  for (const auto& [id, hold] : m_groups) {
    for (const auto& q : hold.events) {
      held.push_back(q.event.sequence);
      mark = std::min(mark, q.event.sequence - 1);
    }
  }
  if (mark > m_journal.applied()) {
    m_journal.mark_applied(mark);
  }
  // Until a replay has gone past what the journal's held file noted, that
  // file says more than `processed` does: kept as it is.
  if (processed < m_journal.noted_processed()) {
    return;
  }
  // Past the mark, what a restart need not apply again (only the held ones);
  // noted once more when the last hold is released, so that a stale mark
  // after a power loss cannot bring back the held file's released events.
  if (processed > mark || m_held_noted) {
    m_journal.mark_held(processed, held);
    m_held_noted = processed > mark;
  }
}

void Pipeline::schedule_retry() {
  if (m_stopping) {
    log::error("events could not be committed; they stay in the journal for the next start",
               {{"count", std::to_string(m_held.size())}});
    return;
  }
  m_retry_delay =
      std::min(k_max_retry_delay, std::max(std::chrono::milliseconds(1000), m_retry_delay * 2));
  m_retry_timer.expires_after(m_retry_delay);
  m_retry_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      retry_held();
    }
  });
}

void Pipeline::retry_held() {
  while (!m_held.empty()) {
    m_metrics.count_commit_retry();
    auto n = std::min(k_max_batch, m_held.size());
    // Out of the hold while applied, so that the applied mark may pass them.
    std::vector<Queued> batch(m_held.begin(), m_held.begin() + static_cast<long>(n));
    m_held.erase(m_held.begin(), m_held.begin() + static_cast<long>(n));
    auto applied = apply(batch);
    if (!applied.committed) {
      m_held.insert(m_held.begin(), batch.begin(), batch.end());
      schedule_retry();
      return;
    }
    m_pending -= n - applied.held;
    m_metrics.set_journal_pending(static_cast<double>(m_pending.load()));
  }
  // Ready again only now, with the backlog gauge already at its new value.
  m_stuck = false;
  m_retry_delay = std::chrono::milliseconds(0);
  log::info("events are committed again after a failure");
}

void Pipeline::publish() {
  auto open = m_engine.open_incidents();
  if (m_after_commit) {
    m_after_commit();
  }
  std::lock_guard lock(m_snapshot_mutex);
  m_snapshot = std::move(open);
}

std::vector<IncidentSummary> Pipeline::open_incidents() const {
  std::lock_guard lock(m_snapshot_mutex);
  return m_snapshot;
}

}  // namespace calloutd
