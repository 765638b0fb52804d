// Keeps the callouts repository small while the daemon runs: `git gc --auto`
// as a child process every `interval`, and the object store's size, loose
// objects and packs measured for the metrics (docs/maintenance.md).
//
// Why git and not libgit2: libgit2 1.5 can write a pack but cannot drop the
// loose objects a pack holds, nor prune unreachable ones after a grace
// period; `git gc` does both, with the locking (gc.pid, atomic renames of
// packs, the two-week prune grace) that makes it safe beside any other git
// writer: the daemon's own libgit2 commits and an engineer's git in the same
// working tree.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>

#include "daemon/config/config.hpp"

namespace calloutd {

// What `.git/objects` holds, read from the file system as `git count-objects` does.
struct ObjectStore {
  std::uint64_t size_bytes = 0;  // every file under .git/objects
  std::uint64_t loose_objects = 0;
  std::uint64_t packs = 0;
};
ObjectStore measure_objects(const std::filesystem::path& objects_dir);

// packed: git found enough to do and did it; not_needed: below its thresholds.
enum class GcOutcome { packed, not_needed, failed };
const char* gc_outcome_name(GcOutcome outcome);

// One round of maintenance, as the metrics show it.
struct MaintenanceReport {
  ObjectStore store;                 // after the run
  bool gc_log = false;               // .git/gc.log present before the run
  std::optional<GcOutcome> outcome;  // none when gc is off or the round was stopped
  double duration_seconds = 0;
};

class Maintenance {
 public:
  using Reporter = std::function<void(const MaintenanceReport&)>;
  // `writing` is the lock the daemon's commits and pushes hold (shared) for
  // their length: gc starts only between them, with the lock held exclusively.
  Maintenance(const MaintenanceConfig& config, std::string repo_path, std::shared_mutex& writing,
              Reporter report);
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  // Starts the thread: a round at once (the metrics from the first scrape),
  // then one every interval.
  void start();
  // Ends a running gc (its whole process group is killed) and the thread.
  void stop();

 private:
  void run();
  void round();
  // Runs `git gc --auto`; nullopt when stopped or no start was possible
  // between the daemon's commits and pushes.
  struct GcRun {
    GcOutcome outcome;
    std::string output;
  };
  std::optional<GcRun> run_gc();
  // Forks git between the daemon's writes; its pid, or -1 (errno set).
  pid_t spawn_between_writes(const std::vector<std::string>& argv, int output_fd);
  void report_gc_log(bool present);

  MaintenanceConfig m_config;
  std::string m_repo_path;
  std::filesystem::path m_git_dir;
  std::shared_mutex& m_writing;
  Reporter m_report;
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;  // under m_mutex
  pid_t m_child = -1;       // under m_mutex: the running git, leader of its process group
  std::filesystem::file_time_type m_gc_log_seen{};  // the gc.log last logged
};

}  // namespace calloutd
