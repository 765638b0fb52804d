// Ties the journal to the engine. HTTP threads journal an event (fsync) and
// queue it; one Asio thread, the engine's strand, applies what is queued in
// journal order, as one commit per batch (a group commit). submit() is
// thread-safe; the engine is only touched on the strand.
#pragma once

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "daemon/engine/engine.hpp"
#include "daemon/journal/journal.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/pipeline/submitter.hpp"

namespace calloutd {

class Pipeline final : public Submitter {
 public:
  Pipeline(Journal& journal, Engine& engine, Metrics& metrics, std::size_t max_pending);
  ~Pipeline();

  // Applies what the journal holds but the repository does not yet, in order,
  // on the calling thread. Call before serving.
  void replay();

  // Starts the engine thread. Tests may instead drive io() with poll()/run_one().
  void start();

  // Drains the queue (every accepted event is applied), then stops the thread.
  void stop();

  // Journals `body` from `source` ("alertmanager", "pagerduty") and queues
  // its parsed `payload` for the engine; the returned sequence number means the
  // event is durable. `verified`: its signature checked out (kept for replay).
  // What recognises a copy of an Alertmanager notification: the SHA-256 of
  // its body, and receivers::content_key of what it says. Computed once per
  // request by the caller; submit() computes them when they are missing.
  std::variant<std::uint64_t, Refusal> submit(std::string_view source, std::string_view body,
                                              Payload payload, bool verified = false,
                                              CopyKeys keys = {}) override;

  // On the strand: journals and queues what people changed in the files
  // (the scanner's `seen`, less what the engine knows already), to be applied
  // like webhooks. Never refused for load: the edits are in the repository
  // already. False when the journal failed (then look again later).
  bool observe(const std::vector<FileObservation>& seen);

  std::vector<IncidentSummary> open_incidents() const override;

  // The sequence number of the Alertmanager notification `group` repeats
  // when it is identical (receivers::content_key) to the last one applied
  // for its group and nothing newer for the group is queued: what HA peers
  // and repeat intervals send. Applying it again would change nothing, and
  // the original is journaled and applied, so it can be answered without
  // journaling it again.
  std::optional<std::uint64_t> duplicate_of(const std::string& group_key,
                                            const std::string& content_key) const override;
  // The same for a body byte-for-byte identical to one already applied, by
  // the SHA-256 of the body: no parsing needed.
  std::optional<std::uint64_t> duplicate_of_body(const std::string& body_key) const override;

  // Runs `task` on the engine's strand and waits for it (from HTTP threads,
  // while the engine thread runs); on_strand() returns a task's result.
  void run_on_strand(const std::function<void()>& task) override {
    std::packaged_task<void()> packaged(task);
    auto done = packaged.get_future();
    boost::asio::post(m_io, [&packaged] { packaged(); });
    done.get();
  }
  // On the strand, after the branch moved to another daemon's or an
  // engineer's commits: applies `records` again on the new head (what the
  // remote lacked changes the files; what it has already changes nothing).
  // Returns how many changed files.
  std::size_t reapply(const std::vector<JournalRecord>& records);
  // On the strand: publishes the open incidents and runs the after-commit hook.
  void publish();
  bool running() const { return m_thread.joinable(); }

  // Called on the strand after each commit (and replay), e.g. to rescan.
  void set_after_commit(std::function<void()> hook) { m_after_commit = std::move(hook); }
  std::size_t pending() const { return m_pending.load(); }
  // Events could not be committed (read-only or full disk, a broken
  // repository): they are held, journaled, and retried with backoff.
  bool stuck() const override { return m_stuck.load(); }
  std::vector<HeldGroup> held_groups() const override;
  // On the strand: every event up to this sequence was applied or is held
  // (the applied mark stays before held events; this goes past them).
  std::uint64_t processed() const { return std::max(m_processed, m_journal.applied()); }
  // On the strand, after the branch moved to `head`: when someone else moved
  // it (an engineer's commit, a fetch), what they committed may have
  // repaired a held group, so every held group is tried again now.
  void branch_moved(const std::string& head);
  boost::asio::io_context& io() { return m_io; }

 private:
  struct Queued {
    Event event;
    std::string content_key;  // Alertmanager notifications only
    std::string body_key;     // SHA-256 of the body as received
    std::optional<std::chrono::steady_clock::time_point> arrived;  // none when replayed
  };
  // Journals `event` (its payload from `body`) and queues it for the strand;
  // `arrived` is set for webhooks (for calloutd_webhook_to_commit_seconds).
  Result<std::uint64_t> enqueue(std::string_view source, std::string_view body, Event event,
                                bool verified, CopyKeys keys,
                                std::optional<std::chrono::steady_clock::time_point> arrived);
  // On the strand: applies the queued events, up to one batch, as one commit.
  void drain();
  // What apply() did: `committed` false when the commit failed (then the
  // caller holds the whole batch for a retry); `held` events of it were
  // held for their own group instead (see hold_for_group).
  struct Applied {
    bool committed = false;
    std::size_t held = 0;
  };
  // Applies `batch` as one commit, every held group but `retrying` held.
  Applied apply(const std::vector<Queued>& batch, const std::string& retrying = "");
  // Results of `batch` (from the engine) checked and counted; true when a
  // failure was not a group's own (then nothing of the batch is held for a group).
  bool failed_globally(const std::vector<Queued>& batch, const std::vector<ApplyResult>& results);
  void record_commit(const Queued& q, const ApplyResult& result,
                     std::chrono::steady_clock::time_point done);
  // Moves the journal's applied mark to `processed`, but never past a held
  // event (of a group, or of the whole pipeline): a restart replays them;
  // notes in the journal's held file which events past the mark were applied.
  void mark_applied(std::uint64_t processed);

  // Held for its own group (held_groups.cpp): `q` waits behind that
  // group's earlier held events, retried with backoff; other groups go on.
  struct GroupHold {
    std::deque<Queued> events;  // journal order
    Failure reason = Failure::state_unreadable;
    std::string error;
    std::string incident_id;
    std::string folder;
    TimePoint since{};
    std::chrono::milliseconds delay{0};
    std::chrono::steady_clock::time_point next_try{};
  };
  void hold_for_group(const Queued& q, const ApplyResult& result);
  std::set<std::string> held_group_ids(const std::string& except) const;
  // Tries each held group whose time has come (all of them with `now`).
  enum class Due { when_due, now };
  void retry_groups(Due due);
  void retry_group(const std::string& id);
  void schedule_group_retry();
  // The held groups for the API and the metric; call after each change.
  void publish_held();
  void remember_applied(const Queued& q);
  // On the strand: applies what is held, oldest first, while commits work;
  // schedules the next attempt (1 s, doubling to k_max_retry_delay) when not.
  void retry_held();
  void replay_batch(const std::vector<Queued>& batch);
  void hold(const std::vector<Queued>& batch);
  void schedule_retry();

  Journal& m_journal;
  Engine& m_engine;
  Metrics& m_metrics;
  std::size_t m_max_pending;
  boost::asio::io_context m_io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> m_work;
  std::thread m_thread;
  std::mutex m_submit_mutex;  // journal order == queue order
  std::mutex m_queue_mutex;
  std::deque<Queued> m_queue;
  std::atomic<std::size_t> m_pending{0};
  // Since a commit failed: every event from the failed one on, in journal
  // order, waits here (the applied mark stays before them).
  std::atomic<bool> m_stuck{false};
  std::deque<Queued> m_held;
  std::map<std::string, GroupHold> m_groups;  // held groups by state id; on the strand
  boost::asio::steady_timer m_group_timer{m_io};
  // Every event up to this sequence was applied or held (for its group or all).
  std::uint64_t m_processed = 0;
  // The journal's held file is in effect (names events past the mark as applied).
  bool m_held_noted = m_journal.noted_processed() > 0;
  std::string m_own_commit;  // the pipeline's last commit, to tell others' moves of the branch
  mutable std::mutex m_held_mutex;
  std::vector<HeldGroup> m_held_snapshot;
  std::chrono::milliseconds m_retry_delay{0};
  boost::asio::steady_timer m_retry_timer{m_io};
  bool m_stopping = false;               // on the strand
  std::size_t m_applied_since_trim = 0;  // events applied since the heap was last trimmed
  std::function<void()>
      m_after_commit;  // an event failed to apply: stop advancing the applied mark
  // group key -> content key and sequence of the last notification applied.
  mutable std::mutex m_applied_mutex;
  std::unordered_map<std::string, std::pair<std::string, std::uint64_t>> m_last_applied;
  // body key -> group key and content key of the notification it carried.
  std::unordered_map<std::string, std::pair<std::string, std::string>> m_bodies;
  mutable std::mutex m_snapshot_mutex;
  std::vector<IncidentSummary> m_snapshot;
};

}  // namespace calloutd
