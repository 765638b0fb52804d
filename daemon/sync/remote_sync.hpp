// Keeps the callouts repository and the team's remote in step, on a thread of
// its own (the network never holds up the engine):
// - after the daemon commits, it pushes promptly (commits made meanwhile go
//   in the same push);
// - every fetch_interval it fetches; engineers' and other daemons' commits
//   fast-forward the branch and the engine and scanner read them;
// - a push the remote rejects (it moved): fetch, put the branch on the
//   remote's head, apply the journal's events since the last push again (the
//   engine edits whatever the files say now, so people's edits stay and what
//   another daemon already wrote changes nothing), push again;
// - the remote unreachable: commits stay local, retried with backoff up to
//   max_retry_delay; the unpushed gauges show how far behind the remote is.
// Everything that touches the engine or the branch runs on the engine's strand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "daemon/config/config.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/git/remote.hpp"
#include "daemon/git/repository.hpp"
#include "daemon/journal/journal.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/pipeline/pipeline.hpp"

namespace calloutd {

class RemoteSync {
 public:
  RemoteSync(const Config& config, GitRepository& repository, Engine& engine, Journal& journal,
             Pipeline& pipeline, Metrics& metrics);
  ~RemoteSync();

  // Starts the thread (after the pipeline): it fetches at once, catches up
  // with the remote and pushes what is local. A remote that cannot be reached
  // is logged and retried, never fatal.
  void start();
  // A commit was made: push soon.
  void poke();
  // Stops the thread (call before the pipeline stops).
  void stop();
  // After the pipeline stopped: one last push of what it committed.
  void final_push();

 private:
  enum class Sync { done, retry };
  Sync sync_once(bool fetch_first);
  // Fetches and reconciles on the strand; false (the trouble logged) when
  // the remote cannot be reached.
  bool fetch_and_reconcile();
  // One push of the branch's head: done or retry, or nullopt when the remote
  // moved and the daemon's events were applied again on its head (push again).
  std::optional<Sync> push_head();
  // On the strand: moves the branch to `remote_head` when the remote is
  // ahead, or rebases the daemon's events onto it when both moved.
  void reconcile(const std::string& remote_head);
  void update_unpushed(const std::string& head);
  // Logs a problem with the remote (once while it lasts) and marks it down.
  void trouble(const std::string& what, const std::string& error);
  // Logs `what` when there was trouble with the remote, which is now over.
  void trouble_over(const std::string& what);
  template <typename Task>
  auto on_strand(Task task) -> decltype(task()) {
    return m_pipeline.running() ? m_pipeline.on_strand(std::move(task)) : task();
  }
  void run();

  const Config& m_config;
  GitRepository& m_repository;
  Engine& m_engine;
  Journal& m_journal;
  Pipeline& m_pipeline;
  Metrics& m_metrics;
  Remote m_remote;
  std::string m_remote_head;  // as last fetched or pushed (sync thread)
  std::string m_trouble;      // the last problem logged, until a push works again
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_poked = false;
  bool m_stopping = false;
};

}  // namespace calloutd
