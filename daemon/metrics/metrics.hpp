// The daemon's Prometheus metrics (prometheus-cpp registry), exposed on
// GET /metrics. Names start with `calloutd_`. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace calloutd {

// The totals of one scan, as the metrics show them.
struct ScanTotals {
  std::map<std::pair<std::string, std::string>, int> open_incidents;  // (severity, technology)
  std::map<std::pair<std::string, std::string>, int> items_open;      // (technology, type)
  std::map<std::pair<std::string, std::string>, int> items_overdue;   // (technology, type)
  std::map<std::string, int> postmortems_pending;                     // status: draft, in review
  int postmortems_overdue = 0;
  std::map<std::pair<std::string, std::string>, int> callouts;  // (technology, issue)
  std::map<std::string, int> files_with_problems;               // kind: callout, postmortem
};

// The label values known before the first event: their series are shown at
// 0 from the first scrape, so that panels and rules find them.
struct KnownLabels {
  std::vector<std::string> severities;    // MPI, HPI
  std::vector<std::string> technologies;  // the configured ones
  std::vector<std::string> item_types;    // action-item types
};

// What is running, shown as calloutd_build_info{version,revision,libgit2} 1.
struct BuildInfo {
  std::string version;
  std::string revision;  // the commit built, or "unknown"
  std::string libgit2;
};

class Metrics {
 public:
  // The time of construction is the process_start_time_seconds shown.
  Metrics();

  // Adds the series of every combination of `known` at 0: open incidents by
  // severity and technology, action items open and overdue by technology
  // and type, callouts by technology (with an empty issue).
  void declare(const KnownLabels& known);
  void set_build_info(const BuildInfo& info);

  // One webhook request: `receiver` ("alertmanager"), `outcome` ("accepted",
  // "bad_request", "unauthorized", "too_large", "overloaded", "error").
  void count_request(const std::string& receiver, const std::string& outcome);
  // One applied event, by engine outcome ("opened", "unchanged", ...).
  void count_event(const std::string& outcome);
  void count_commit();
  // Paths in the repository that a callout could not be written through (a
  // symlink, a submodule, a file where a folder goes): it went elsewhere.
  void count_unsafe_paths(std::size_t paths);
  void observe_webhook_to_commit(double seconds);
  void observe_time_to_acknowledge(const std::string& severity, double seconds);
  void observe_time_to_resolve(const std::string& severity, double seconds);
  void set_journal_pending(double count);
  // Events held for their own group now, by reason ("state_unreadable",
  // "write_up_unreadable", "folder_unsafe"); a reason left out is 0.
  void set_events_held(const std::map<std::string, std::size_t>& by_reason);
  // Damaged journal lines moved to the quarantine file when the journal opened.
  void count_journal_quarantined(std::size_t records);
  // State files under .calloutd/ the engine could not read or parse, as its
  // running totals by kind ("group", "shifts"): the counter follows them.
  void set_state_files_unreadable(const std::map<std::string, std::uint64_t>& totals);
  // Publishes what a scan of the repository found; label sets no longer
  // present drop to 0.
  void set_scan_totals(const ScanTotals& totals);
  void observe_scan(double seconds);

  // Responders: on shift by role, the longest shifts' work time (at most
  // k_max_responder_series responders), over the limit, limit breaches, and
  // incidents whose handover is overdue.
  static constexpr std::size_t k_max_responder_series = 20;
  void set_responders(const std::map<std::string, int>& on_shift_by_role,
                      const std::vector<std::pair<std::string, double>>& work_seconds,
                      int over_limit, std::uint64_t breaches, int handovers_overdue);

  // The remote, once enable_remote() registered its series: commits not yet
  // on the remote and the age of the oldest, pushes ("pushed", "rejected",
  // "failed") and fetches ("ok", "failed"), and whether the last exchange worked.
  void enable_remote();
  void set_unpushed(std::size_t commits, double oldest_age_seconds);
  void count_push(const std::string& outcome);
  void count_fetch(const std::string& outcome);
  void set_remote_up(bool up);

  // The HTTP front: open connections, connections refused at a cap
  // ("connection_limit", "client_limit"), idle ones closed to make room, and
  // requests cut off by a deadline ("header", "body", "write").
  void set_http_connections(double open);
  void count_http_refused(const std::string& reason);
  void count_http_idle_closed();
  void count_http_timeout(const std::string& phase);
  void count_http_connection_error(const std::string& reason);

  // Commits that failed and are retried while the daemon runs.
  void count_commit_retry();
  // Open incidents past each (severity, target) now, and the targets that
  // passed since the last call.
  void set_response_targets(const std::map<std::pair<std::string, std::string>, int>& past,
                            const std::vector<std::pair<std::string, std::string>>& breaches);
  // An edit moved a postmortem to `status` past the review gate.
  void count_review_gate_bypassed(const std::string& status);
  // The configuration loaded at start (true) or a reload's outcome.
  void set_config_reloaded(bool successful);

  // The callouts repository's object store and its maintenance (git gc):
  // what .git/objects holds, the size limit the alert compares with, one
  // maintenance run by outcome ("packed", "not_needed", "failed") and how
  // long it took, and whether a failed gc's .git/gc.log is there.
  void set_repository_objects(double size_bytes, double loose_objects, double packs);
  void set_repository_size_limit(double bytes);
  void record_maintenance(const std::string& outcome, double seconds);
  void set_gc_log_present(bool present);
  // Group state files under .calloutd/groups/ now, and `pruned` more of
  // them removed (resolved past the retention; docs/state.md).
  void set_state_files(std::size_t files);
  void count_state_pruned(std::size_t pruned);

  // The text exposition format, the process_* families read now.
  std::string serialize() const;

 private:
  double m_start_time_seconds;
  std::shared_ptr<prometheus::Registry> m_registry;
  prometheus::Family<prometheus::Counter>& m_requests;
  prometheus::Family<prometheus::Counter>& m_events;
  prometheus::Counter& m_commits;
  prometheus::Counter& m_unsafe_paths;
  prometheus::Histogram& m_webhook_to_commit;
  prometheus::Family<prometheus::Histogram>& m_time_to_ack;
  prometheus::Family<prometheus::Histogram>& m_time_to_resolve;
  prometheus::Gauge& m_journal_pending;
  prometheus::Counter& m_commit_retries;
  prometheus::Family<prometheus::Gauge>& m_events_held;
  prometheus::Family<prometheus::Counter>& m_gate_bypassed;
  prometheus::Family<prometheus::Counter>& m_target_breaches;
  prometheus::Family<prometheus::Gauge>& m_past_target;
  prometheus::Gauge& m_reload_successful;
  prometheus::Gauge& m_reload_success_time;
  prometheus::Counter& m_journal_quarantined;
  prometheus::Family<prometheus::Counter>& m_state_unreadable;
  std::map<std::string, std::uint64_t> m_state_unreadable_seen;  // under m_scan_mutex
  prometheus::Family<prometheus::Gauge>& m_open;
  prometheus::Family<prometheus::Gauge>& m_items_open;
  prometheus::Family<prometheus::Gauge>& m_items_overdue;
  prometheus::Family<prometheus::Gauge>& m_postmortems_pending;
  prometheus::Gauge& m_postmortems_overdue;
  prometheus::Family<prometheus::Counter>& m_callouts;
  prometheus::Family<prometheus::Gauge>& m_problem_files;
  prometheus::Histogram& m_scan_duration;
  prometheus::Gauge& m_last_scan;
  prometheus::Family<prometheus::Gauge>& m_on_shift;
  prometheus::Family<prometheus::Gauge>& m_work_seconds;
  prometheus::Gauge& m_over_limit;
  prometheus::Counter& m_breaches;
  prometheus::Gauge& m_handovers_overdue;
  prometheus::Family<prometheus::Gauge>& m_build_info;
  std::uint64_t m_breaches_seen = 0;
  prometheus::Gauge* m_unpushed = nullptr;
  prometheus::Gauge* m_unpushed_age = nullptr;
  prometheus::Family<prometheus::Counter>* m_pushes = nullptr;
  prometheus::Family<prometheus::Counter>* m_fetches = nullptr;
  prometheus::Gauge* m_remote_up = nullptr;

  struct Http {
    prometheus::Gauge* open = nullptr;
    prometheus::Family<prometheus::Counter>* refused = nullptr;
    prometheus::Counter* idle_closed = nullptr;
    prometheus::Family<prometheus::Counter>* timeouts = nullptr;
    prometheus::Family<prometheus::Counter>* connection_errors = nullptr;
  } m_http;
  void register_http();

  struct Repository {
    prometheus::Gauge* size = nullptr;
    prometheus::Gauge* loose = nullptr;
    prometheus::Gauge* packs = nullptr;
    prometheus::Gauge* size_limit = nullptr;
    prometheus::Gauge* last_run = nullptr;
    prometheus::Gauge* duration = nullptr;
    prometheus::Family<prometheus::Counter>* runs = nullptr;
    prometheus::Gauge* gc_log = nullptr;
    prometheus::Gauge* state_files = nullptr;
    prometheus::Counter* state_pruned = nullptr;
  } m_repository;
  void register_repository();

  // Gauges of a family replaced wholesale by each scan.
  struct Replaced {
    prometheus::Family<prometheus::Gauge>* family;
    std::vector<prometheus::Gauge*> known;
  };
  void replace(Replaced& r,
               const std::vector<std::pair<std::map<std::string, std::string>, double>>& values);
  std::mutex m_scan_mutex;
  Replaced m_open_set, m_items_open_set, m_items_overdue_set, m_pending_set, m_problem_set,
      m_on_shift_set, m_work_set;
  std::map<std::pair<std::string, std::string>, int> m_callouts_seen;
};

}  // namespace calloutd
