// The scanner: reads every callout.md and postmortem.md of the repository
// (people's edits included) and turns them into the metrics Grafana panels
// and alert rules use. Incremental: after the first scan only the folders
// that the new commits touched are looked at, and a file is parsed again only
// when its content changed. Runs on the engine's strand (it reads the repository).
#pragma once

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "daemon/base/clock.hpp"
#include "daemon/git/repository.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/pipeline/pipeline.hpp"
#include "daemon/writeup/postmortem.hpp"
#include "receivers/event.hpp"

namespace calloutd {

// What one incident folder's files say.
struct FolderFacts {
  std::string technology;
  std::string issue;
  std::string callout_id;  // file ids the facts were read from
  std::string postmortem_id;
  CalloutFile callout;
  PostmortemFile postmortem;
};

class Scanner {
 public:
  Scanner(Repository& repository, Metrics& metrics, std::chrono::seconds postmortem_overdue_after);

  // Reads what changed at `head` and publishes the totals for `now`.
  ScanTotals scan(const std::string& head, TimePoint now);

  const std::map<std::string, FolderFacts>& folders() const { return m_folders; }
  // What the files read again by the last scan say in the values the engine
  // keeps state for (without the commit: the engine finds it for the news).
  std::vector<FileObservation> observations() const;
  // Forgets every file read, so that the next scan reads them all again.
  void forget();
  // From the next scan on (a reload; on the strand).
  void set_postmortem_overdue_after(std::chrono::seconds after) {
    m_postmortem_overdue_after = after;
  }

 private:
  ScanTotals totals(TimePoint now) const;
  // Reads one folder again if its files changed; false (and forgotten) when it
  // is not an incident folder (any more).
  bool read_folder(const std::string& head, const std::string& technology, const std::string& name);

  Repository& m_repository;
  Metrics& m_metrics;
  std::chrono::seconds m_postmortem_overdue_after;
  std::map<std::string, FolderFacts> m_folders;  // by folder path
  // Folders whose postmortem.md / callout.md the last scan read again.
  std::vector<std::string> m_changed;
  std::vector<std::string> m_changed_callouts;
  std::string m_head;  // the commit the facts were read at
};

// Scans when the branch moves (polled) or when poked after a commit, and at
// least every minute (overdue-ness changes with the date alone). What people
// changed in the files goes to the pipeline, which journals it and has the
// engine apply it like a webhook.
class ScanLoop {
 public:
  ScanLoop(Pipeline& pipeline, Scanner& scanner, Repository& repository, const Clock& clock,
           std::chrono::milliseconds poll_interval);
  void start();
  void stop();
  // Scan now (on the strand), e.g. after the daemon committed.
  void poke();
  // Called on the strand at every poll tick (timers such as the 4-hour rule).
  void on_tick(std::function<void()> hook) { m_on_tick = std::move(hook); }

 private:
  void tick();
  void scan_if_needed(bool force);

  Pipeline& m_pipeline;
  boost::asio::io_context& m_io;
  boost::asio::steady_timer m_timer;
  Scanner& m_scanner;
  Repository& m_repository;
  const Clock& m_clock;
  std::chrono::milliseconds m_poll_interval;
  std::string m_last_head;
  std::chrono::steady_clock::time_point m_last_scan{};
  bool m_stopped = false;
  std::function<void()> m_on_tick;
};

}  // namespace calloutd
