#include "daemon/metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>

namespace calloutd {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {
const prometheus::Histogram::BucketBoundaries k_response_buckets{60,   300,   900,   1800, 3600,
                                                                 7200, 14400, 28800, 86400};
}  // namespace

Metrics::Metrics()
    : m_registry(std::make_shared<prometheus::Registry>()),
      m_requests(BuildCounter()
                     .Name("calloutd_webhook_requests_total")
                     .Help("Webhook requests by receiver and outcome.")
                     .Register(*m_registry)),
      m_events(BuildCounter()
                   .Name("calloutd_events_applied_total")
                   .Help("Journaled events applied to the repository, by outcome.")
                   .Register(*m_registry)),
      m_commits(BuildCounter()
                    .Name("calloutd_git_commits_total")
                    .Help("Commits the daemon made in the callouts repository.")
                    .Register(*m_registry)
                    .Add({})),
      m_unsafe_paths(BuildCounter()
                         .Name("calloutd_unsafe_paths_total")
                         .Help("Paths in the repository a callout was not written through (a "
                               "symlink, a submodule, a file where a folder goes); the callout "
                               "went to a safe folder instead.")
                         .Register(*m_registry)
                         .Add({})),
      m_webhook_to_commit(
          BuildHistogram()
              .Name("calloutd_webhook_to_commit_seconds")
              .Help("Time from a webhook's arrival to the commit that records it.")
              .Register(*m_registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                               0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                               5, 10, 30, 60})),
      m_time_to_ack(BuildHistogram()
                        .Name("calloutd_time_to_acknowledge_seconds")
                        .Help("From an incident opening to its first acknowledgement, by severity.")
                        .Register(*m_registry)),
      m_time_to_resolve(BuildHistogram()
                            .Name("calloutd_time_to_resolve_seconds")
                            .Help("From an incident opening to its resolution, by severity.")
                            .Register(*m_registry)),
      m_journal_pending(BuildGauge()
                            .Name("calloutd_journal_pending_events")
                            .Help("Events journaled and acknowledged but not yet applied.")
                            .Register(*m_registry)
                            .Add({})),
      m_commit_retries(BuildCounter()
                           .Name("calloutd_commit_retries_total")
                           .Help("Attempts to apply events again after a failed commit.")
                           .Register(*m_registry)
                           .Add({})),
      m_journal_quarantined(
          BuildCounter()
              .Name("calloutd_journal_quarantined_records_total")
              .Help(
                  "Damaged journal lines moved to journal.quarantine.jsonl at start (see the log).")
              .Register(*m_registry)
              .Add({})),
      m_open(BuildGauge()
                 .Name("calloutd_incidents_open")
                 .Help("Incidents whose callout.md Status is active, by severity and technology.")
                 .Register(*m_registry)),
      m_items_open(BuildGauge()
                       .Name("calloutd_action_items_open")
                       .Help("Postmortem action items with Status TODO or IN PROGRESS, by "
                             "technology and type.")
                       .Register(*m_registry)),
      m_items_overdue(BuildGauge()
                          .Name("calloutd_action_items_overdue")
                          .Help("Open postmortem action items whose Due date (UTC) has passed, by "
                                "technology and type.")
                          .Register(*m_registry)),
      m_postmortems_pending(
          BuildGauge()
              .Name("calloutd_postmortems_pending")
              .Help("Postmortems not yet published, by status (draft, in review).")
              .Register(*m_registry)),
      m_postmortems_overdue(BuildGauge()
                                .Name("calloutd_postmortems_overdue")
                                .Help("Postmortems still a draft longer than the allowed time "
                                      "after the incident resolved.")
                                .Register(*m_registry)
                                .Add({})),
      m_callouts(BuildCounter()
                     .Name("calloutd_callouts_total")
                     .Help("Callouts in the repository by technology and callout issue "
                           "(recurrences add up).")
                     .Register(*m_registry)),
      m_problem_files(
          BuildGauge()
              .Name("calloutd_markdown_files_unreadable")
              .Help(
                  "callout.md or postmortem.md files with parts that cannot be read (see the log).")
              .Register(*m_registry)),
      m_scan_duration(BuildHistogram()
                          .Name("calloutd_scan_duration_seconds")
                          .Help("Time to scan the repository's write-ups after a change.")
                          .Register(*m_registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05,
                                                                           0.1, 0.5, 1, 5, 10})),
      m_last_scan(BuildGauge()
                      .Name("calloutd_last_scan_timestamp_seconds")
                      .Help("When the write-ups were last scanned (Unix time).")
                      .Register(*m_registry)
                      .Add({})),
      m_on_shift(BuildGauge()
                     .Name("calloutd_responders_on_shift")
                     .Help("Role holders on active incidents, by role.")
                     .Register(*m_registry)),
      m_work_seconds(
          BuildGauge()
              .Name("calloutd_responder_work_seconds")
              .Help("Continuous work time of each on-shift responder (the 20 longest shifts).")
              .Register(*m_registry)),
      m_over_limit(BuildGauge()
                       .Name("calloutd_responders_over_limit")
                       .Help("Lone Operations engineers (no Secondary) past the work limit now.")
                       .Register(*m_registry)
                       .Add({})),
      m_breaches(BuildCounter()
                     .Name("calloutd_work_limit_breaches_total")
                     .Help("Times a lone Operations engineer reached the work limit.")
                     .Register(*m_registry)
                     .Add({})),
      m_handovers_overdue(
          BuildGauge()
              .Name("calloutd_handovers_overdue")
              .Help("Active incidents whose Next Incident Lead handover is overdue.")
              .Register(*m_registry)
              .Add({})) {
  m_on_shift_set = {&m_on_shift, {}};
  m_work_set = {&m_work_seconds, {}};
  for (const char* role : {"Incident Lead", "Operations", "Secondary"}) {
    m_on_shift.Add({{"role", role}});
  }
  m_open_set = {&m_open, {}};
  m_items_open_set = {&m_items_open, {}};
  m_items_overdue_set = {&m_items_overdue, {}};
  m_pending_set = {&m_postmortems_pending, {}};
  m_problem_set = {&m_problem_files, {}};
  // Present from the start, so that panels and rules find series at 0.
  for (const char* severity : {"MPI", "HPI"}) {
    m_time_to_ack.Add({{"severity", severity}}, k_response_buckets);
    m_time_to_resolve.Add({{"severity", severity}}, k_response_buckets);
  }
  for (const char* status : {"draft", "in review"}) {
    m_postmortems_pending.Add({{"status", status}});
  }
  for (const char* kind : {"callout", "postmortem"}) {
    m_problem_files.Add({{"kind", kind}});
  }
  for (const char* r : {"alertmanager"}) {
    for (const char* o :
         {"accepted", "bad_request", "unauthorized", "too_large", "overloaded", "error"}) {
      m_requests.Add({{"receiver", r}, {"outcome", o}});
    }
  }
  for (const char* o : {"opened", "reopened", "updated", "unchanged", "ignored", "failed"}) {
    m_events.Add({{"outcome", o}});
  }
  register_http();
}

void Metrics::count_request(const std::string& receiver, const std::string& outcome) {
  m_requests.Add({{"receiver", receiver}, {"outcome", outcome}}).Increment();
}

void Metrics::count_event(const std::string& outcome) {
  m_events.Add({{"outcome", outcome}}).Increment();
}

void Metrics::register_http() {
  m_http.open = &BuildGauge()
                     .Name("calloutd_http_connections_open")
                     .Help("HTTP connections open now.")
                     .Register(*m_registry)
                     .Add({});
  m_http.refused = &BuildCounter()
                        .Name("calloutd_http_connections_refused_total")
                        .Help(
                            "HTTP connections refused at a cap (connection_limit: all "
                            "clients; client_limit: one address).")
                        .Register(*m_registry);
  m_http.idle_closed = &BuildCounter()
                            .Name("calloutd_http_idle_connections_closed_total")
                            .Help("Idle HTTP connections closed to make room for new ones.")
                            .Register(*m_registry)
                            .Add({});
  m_http.timeouts = &BuildCounter()
                         .Name("calloutd_http_request_timeouts_total")
                         .Help(
                             "HTTP requests cut off by a deadline, by phase (header, body, "
                             "write).")
                         .Register(*m_registry);
  for (const char* reason : {"connection_limit", "client_limit"}) {
    m_http.refused->Add({{"reason", reason}});
  }
  for (const char* phase : {"header", "body", "write"}) {
    m_http.timeouts->Add({{"phase", phase}});
  }
}

void Metrics::set_http_connections(double open) {
  m_http.open->Set(open);
}

void Metrics::count_http_refused(const std::string& reason) {
  m_http.refused->Add({{"reason", reason}}).Increment();
}

void Metrics::count_http_idle_closed() {
  m_http.idle_closed->Increment();
}

void Metrics::count_http_timeout(const std::string& phase) {
  m_http.timeouts->Add({{"phase", phase}}).Increment();
}

void Metrics::count_commit_retry() {
  m_commit_retries.Increment();
}

void Metrics::count_commit() {
  m_commits.Increment();
}

void Metrics::count_unsafe_paths(std::size_t paths) {
  m_unsafe_paths.Increment(static_cast<double>(paths));
}

void Metrics::observe_webhook_to_commit(double seconds) {
  m_webhook_to_commit.Observe(seconds);
}

void Metrics::enable_remote() {
  m_unpushed = &BuildGauge()
                    .Name("calloutd_remote_unpushed_commits")
                    .Help("Commits in the callouts repository not yet on the remote.")
                    .Register(*m_registry)
                    .Add({});
  m_unpushed_age = &BuildGauge()
                        .Name("calloutd_remote_oldest_unpushed_commit_age_seconds")
                        .Help("Age of the oldest commit not yet on the remote (0 when none).")
                        .Register(*m_registry)
                        .Add({});
  m_pushes = &BuildCounter()
                  .Name("calloutd_remote_pushes_total")
                  .Help("Pushes to the remote, by outcome (pushed, rejected, failed).")
                  .Register(*m_registry);
  m_fetches = &BuildCounter()
                   .Name("calloutd_remote_fetches_total")
                   .Help("Fetches from the remote, by outcome (ok, failed).")
                   .Register(*m_registry);
  m_remote_up = &BuildGauge()
                     .Name("calloutd_remote_up")
                     .Help("1 when the last fetch or push reached the remote, else 0.")
                     .Register(*m_registry)
                     .Add({});
  for (const char* o : {"pushed", "rejected", "failed"}) {
    m_pushes->Add({{"outcome", o}});
  }
  for (const char* o : {"ok", "failed"}) {
    m_fetches->Add({{"outcome", o}});
  }
}

void Metrics::set_unpushed(std::size_t commits, double oldest_age_seconds) {
  if (m_unpushed != nullptr) {
    m_unpushed->Set(static_cast<double>(commits));
    m_unpushed_age->Set(oldest_age_seconds);
  }
}

void Metrics::count_push(const std::string& outcome) {
  if (m_pushes != nullptr) {
    m_pushes->Add({{"outcome", outcome}}).Increment();
  }
}

void Metrics::count_fetch(const std::string& outcome) {
  if (m_fetches != nullptr) {
    m_fetches->Add({{"outcome", outcome}}).Increment();
  }
}

void Metrics::set_remote_up(bool up) {
  if (m_remote_up != nullptr) {
    m_remote_up->Set(up ? 1 : 0);
  }
}

void Metrics::set_journal_pending(double count) {
  m_journal_pending.Set(count);
}

void Metrics::count_journal_quarantined(std::size_t records) {
  m_journal_quarantined.Increment(static_cast<double>(records));
}

void Metrics::observe_time_to_acknowledge(const std::string& severity, double seconds) {
  m_time_to_ack.Add({{"severity", severity}}, k_response_buckets).Observe(seconds);
}

void Metrics::observe_time_to_resolve(const std::string& severity, double seconds) {
  m_time_to_resolve.Add({{"severity", severity}}, k_response_buckets).Observe(seconds);
}

void Metrics::replace(
    Replaced& r, const std::vector<std::pair<std::map<std::string, std::string>, double>>& values) {
  std::vector<prometheus::Gauge*> now;
  for (const auto& [labels, value] : values) {
    auto& g = r.family->Add(labels);
    g.Set(value);
    now.push_back(&g);
  }
  for (auto* g : r.known) {
    if (std::find(now.begin(), now.end(), g) == now.end()) {
      g->Set(0);
      now.push_back(g);
    }
  }
  r.known = std::move(now);
}

void Metrics::set_scan_totals(const ScanTotals& t) {
  using Values = std::vector<std::pair<std::map<std::string, std::string>, double>>;
  auto pairs = [](const std::map<std::pair<std::string, std::string>, int>& m, const char* a,
                  const char* b) {
    Values v;
    for (const auto& [k, n] : m) {
      v.push_back({{{a, k.first}, {b, k.second}}, static_cast<double>(n)});
    }
    return v;
  };
  auto singles = [](const std::map<std::string, int>& m, const char* a) {
    Values v;
    for (const auto& [k, n] : m) {
      v.push_back({{{a, k}}, static_cast<double>(n)});
    }
    return v;
  };
  std::lock_guard lock(m_scan_mutex);
  replace(m_open_set, pairs(t.open_incidents, "severity", "technology"));
  replace(m_items_open_set, pairs(t.items_open, "technology", "type"));
  replace(m_items_overdue_set, pairs(t.items_overdue, "technology", "type"));
  replace(m_pending_set, singles(t.postmortems_pending, "status"));
  replace(m_problem_set, singles(t.files_with_problems, "kind"));
  m_postmortems_overdue.Set(t.postmortems_overdue);
  // A counter only goes up: add what appeared since the last scan.
  for (const auto& [key, n] : t.callouts) {
    int& seen = m_callouts_seen[key];
    if (n > seen) {
      m_callouts.Add({{"technology", key.first}, {"issue", key.second}}).Increment(n - seen);
      seen = n;
    }
  }
  m_last_scan.SetToCurrentTime();
}

void Metrics::observe_scan(double seconds) {
  m_scan_duration.Observe(seconds);
}

void Metrics::set_responders(const std::map<std::string, int>& on_shift_by_role,
                             const std::vector<std::pair<std::string, double>>& work_seconds,
                             int over_limit, std::uint64_t breaches, int handovers_overdue) {
  using Values = std::vector<std::pair<std::map<std::string, std::string>, double>>;
  Values roles, work;
  for (const auto& [role, n] : on_shift_by_role) {
    roles.push_back({{{"role", role}}, static_cast<double>(n)});
  }
  for (std::size_t i = 0; i < work_seconds.size() && i < k_max_responder_series; ++i) {
    work.push_back({{{"responder", work_seconds[i].first}}, work_seconds[i].second});
  }
  std::lock_guard lock(m_scan_mutex);
  replace(m_on_shift_set, roles);
  replace(m_work_set, work);
  m_over_limit.Set(over_limit);
  m_handovers_overdue.Set(handovers_overdue);
  if (breaches > m_breaches_seen) {
    m_breaches.Increment(static_cast<double>(breaches - m_breaches_seen));
    m_breaches_seen = breaches;
  }
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(m_registry->Collect());
}

}  // namespace calloutd
