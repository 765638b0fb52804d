#include "daemon/metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>

#include "daemon/base/keep_running.hpp"
#include "daemon/metrics/process.hpp"

namespace calloutd {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Labels;
using Buckets = prometheus::Histogram::BucketBoundaries;

// One family as /metrics shows it: name, help text, and the label sets of
// the series it has from the start, at 0, so that panels and rules find them
// before the first event. A family without labels has the one series {};
// one whose series come with events lists none.
struct FamilySpec {
  const char* name;
  const char* help;
  std::vector<Labels> series;
  const Buckets* buckets = nullptr;  // histograms only
};

const std::vector<Labels> k_single = {{}};

// `base` with `key` set to each of `values`, in order.
std::vector<Labels> each(const char* key, std::initializer_list<const char*> values,
                         const Labels& base = {}) {
  std::vector<Labels> out;
  for (const char* value : values) {
    Labels labels = base;
    labels[key] = value;
    out.push_back(std::move(labels));
  }
  return out;
}

const Buckets k_response_buckets{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400};
const Buckets k_webhook_to_commit_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
const Buckets k_scan_buckets{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};

// The families, in the order they are registered (the order /metrics lists
// them in, within a type). Names and help texts are an interface: dashboards
// and alert rules use them (tests/unit/metrics/exposition.expected pins them).
const FamilySpec k_requests{
    "calloutd_webhook_requests_total", "Webhook requests by receiver and outcome.",
    each("outcome", {"accepted", "bad_request", "unauthorized", "too_large", "overloaded", "error"},
         {{"receiver", "alertmanager"}})};
const FamilySpec k_events{
    "calloutd_events_applied_total", "Journaled events applied to the repository, by outcome.",
    each("outcome", {"opened", "reopened", "updated", "unchanged", "ignored", "failed"})};
const FamilySpec k_commits{"calloutd_git_commits_total",
                           "Commits the daemon made in the callouts repository.", k_single};
const FamilySpec k_unsafe_paths{
    "calloutd_unsafe_paths_total",
    "Paths in the repository a callout was not written through (a symlink, a submodule, a file "
    "where a folder goes); the callout went to a safe folder instead.",
    k_single};
const FamilySpec k_webhook_to_commit{"calloutd_webhook_to_commit_seconds",
                                     "Time from a webhook's arrival to the commit that records it.",
                                     k_single, &k_webhook_to_commit_buckets};
const FamilySpec k_time_to_ack{
    "calloutd_time_to_acknowledge_seconds",
    "From an incident opening to its first acknowledgement, by severity.",
    each("severity", {"MPI", "HPI"}), &k_response_buckets};
const FamilySpec k_time_to_resolve{"calloutd_time_to_resolve_seconds",
                                   "From an incident opening to its resolution, by severity.",
                                   each("severity", {"MPI", "HPI"}), &k_response_buckets};
const FamilySpec k_journal_pending{"calloutd_journal_pending_events",
                                   "Events journaled and acknowledged but not yet applied.",
                                   k_single};
const FamilySpec k_commit_retries{"calloutd_commit_retries_total",
                                  "Attempts to apply events again after a failed commit.",
                                  k_single};
// The reasons are engine::failure_name's for a group's own failures.
const FamilySpec k_events_held{
    "calloutd_events_held",
    "Events held for their own group, by reason (state_unreadable, write_up_unreadable, "
    "folder_unsafe): journaled, retried with backoff and applied once the group reads again; "
    "other groups' events go on.",
    each("reason", {"state_unreadable", "write_up_unreadable", "folder_unsafe"})};
// Each severity with each response target.
std::vector<Labels> severity_targets() {
  std::vector<Labels> out;
  for (const char* severity : {"MPI", "HPI"}) {
    for (auto& labels : each("target", {"acknowledge", "resolve"}, {{"severity", severity}})) {
      out.push_back(std::move(labels));
    }
  }
  return out;
}
const FamilySpec k_target_breaches{
    "calloutd_response_target_breaches_total",
    "Incidents whose response target (response_targets: acknowledge, resolve) passed, counted "
    "when it passes, by severity and target.",
    severity_targets()};
const FamilySpec k_past_target{
    "calloutd_incidents_past_response_target",
    "Open incidents past a response target now (not acknowledged, or not resolved, in time), "
    "by severity and target.",
    severity_targets()};
const FamilySpec k_gate_bypassed{
    "calloutd_postmortem_review_gate_bypassed_total",
    "Postmortems an edit moved to in review or published without what the review gate asks "
    "(the callout's timeline says what was missing), by status.",
    each("status", {"in review", "published"})};
const FamilySpec k_reload_successful{
    "calloutd_config_last_reload_successful",
    "Whether the last configuration reload (SIGHUP, POST /-/reload) succeeded; 1 at start.",
    k_single};
const FamilySpec k_reload_success_time{
    "calloutd_config_last_reload_success_timestamp_seconds",
    "When the configuration was last loaded successfully (at start or by a reload).", k_single};
const FamilySpec k_journal_quarantined{
    "calloutd_journal_quarantined_records_total",
    "Damaged journal lines moved to journal.quarantine.jsonl at start (see the log).", k_single};
const FamilySpec k_state_unreadable{
    "calloutd_state_files_unreadable_total",
    "Times a state file under .calloutd/ could not be read or parsed, by kind (group, shifts); "
    "never taken for an absent file (see the log).",
    each("kind", {"group", "shifts"})};
const FamilySpec k_open{"calloutd_incidents_open",
                        "Incidents whose callout.md Status is active, by severity and technology.",
                        {}};
const FamilySpec k_items_open{
    "calloutd_action_items_open",
    "Postmortem action items with Status TODO or IN PROGRESS, by technology and type.",
    {}};
const FamilySpec k_items_overdue{
    "calloutd_action_items_overdue",
    "Open postmortem action items whose Due date (UTC) has passed, by technology and type.",
    {}};
const FamilySpec k_postmortems_pending{
    "calloutd_postmortems_pending",
    "Postmortems pending: the incident is resolved and the postmortem not yet published (as in "
    "the README index), by status (draft, in review).",
    each("status", {"draft", "in review"})};
const FamilySpec k_postmortems_overdue{
    "calloutd_postmortems_overdue",
    "Postmortems still a draft longer than the allowed time after the incident resolved.",
    k_single};
const FamilySpec k_callouts{
    "calloutd_callouts_total",
    "Callouts in the repository by technology and callout issue (recurrences add up).",
    {}};
const FamilySpec k_problem_files{
    "calloutd_markdown_files_unreadable",
    "callout.md or postmortem.md files with parts that cannot be read (see the log).",
    each("kind", {"callout", "postmortem"})};
const FamilySpec k_scan_duration{"calloutd_scan_duration_seconds",
                                 "Time to scan the repository's write-ups after a change.",
                                 k_single, &k_scan_buckets};
const FamilySpec k_last_scan{"calloutd_last_scan_timestamp_seconds",
                             "When the write-ups were last scanned (Unix time).", k_single};
const FamilySpec k_on_shift{"calloutd_responders_on_shift",
                            "Role holders on active incidents, by role.",
                            each("role", {"Current Incident Lead", "Operations", "Secondary"})};
const FamilySpec k_work_seconds{
    "calloutd_responder_work_seconds",
    "Continuous work time of each on-shift responder (the 20 longest shifts).",
    {}};
const FamilySpec k_over_limit{"calloutd_responders_over_limit",
                              "Lone Operations engineers (no Secondary) past the work limit now.",
                              k_single};
const FamilySpec k_breaches{"calloutd_work_limit_breaches_total",
                            "Times a lone Operations engineer reached the work limit.", k_single};
const FamilySpec k_handovers_overdue{
    "calloutd_handovers_overdue", "Active incidents whose Next Incident Lead handover is overdue.",
    k_single};
const FamilySpec k_build_info{
    "calloutd_build_info",
    "1, labelled with the calloutd version, the git revision built and the libgit2 version.",
    {}};

// The HTTP front's families, registered by register_http().
const FamilySpec k_http_open{"calloutd_http_connections_open", "HTTP connections open now.",
                             k_single};
const FamilySpec k_http_refused{
    "calloutd_http_connections_refused_total",
    "HTTP connections refused at a cap (connection_limit: all clients; client_limit: one "
    "address).",
    each("reason", {"connection_limit", "client_limit"})};
const FamilySpec k_http_idle_closed{"calloutd_http_idle_connections_closed_total",
                                    "Idle HTTP connections closed to make room for new ones.",
                                    k_single};
const FamilySpec k_http_timeouts{
    "calloutd_http_request_timeouts_total",
    "HTTP requests cut off by a deadline, by phase (handshake: TLS, header, body, write).",
    each("phase", {"handshake", "header", "body", "write"})};
const FamilySpec k_http_connection_errors{
    "calloutd_http_connection_errors_total",
    "HTTP connections closed on an error of the connection itself (framing_limit: chunk "
    "extensions or trailers over the limit; exception: an exception in the connection's "
    "handling, a bug).",
    each("reason", {"framing_limit", "exception"})};

// The repository's families, registered by register_repository().
const FamilySpec k_repo_size{"calloutd_repository_size_bytes",
                             "Bytes in the callouts repository's .git/objects (loose and packed).",
                             k_single};
const FamilySpec k_repo_loose{"calloutd_repository_loose_objects",
                              "Loose objects in the callouts repository (git gc packs them).",
                              k_single};
const FamilySpec k_repo_packs{"calloutd_repository_packs", "Pack files in the callouts repository.",
                              k_single};
const FamilySpec k_repo_size_limit{
    "calloutd_repository_size_limit_bytes",
    "repository.maintenance.size_limit_bytes: the size the repository alert compares with.",
    k_single};
const FamilySpec k_maintenance_last_run{
    "calloutd_repository_maintenance_last_run_timestamp_seconds",
    "When repository maintenance (git gc --auto) last ran (Unix time).", k_single};
const FamilySpec k_maintenance_duration{
    "calloutd_repository_maintenance_duration_seconds",
    "How long the last repository maintenance run (git gc --auto) took.", k_single};
const FamilySpec k_maintenance_runs{
    "calloutd_repository_maintenance_runs_total",
    "Repository maintenance runs (git gc --auto), by outcome (packed, not_needed, failed).",
    each("outcome", {"packed", "not_needed", "failed"})};
const FamilySpec k_gc_log{"calloutd_repository_gc_log_present",
                          "1 while a failed git gc's .git/gc.log is in the repository (see the "
                          "log and docs/maintenance.md).",
                          k_single};
const FamilySpec k_state_files{
    "calloutd_state_files",
    "Group state files under .calloutd/groups/ in the repository (docs/state.md).", k_single};
const FamilySpec k_state_pruned{
    "calloutd_state_pruned_total",
    "Group state files removed because their incident resolved longer ago than the retention "
    "(repository.state_retention, docs/state.md); their callouts stay.",
    k_single};

// The remote's families, registered by enable_remote().
const FamilySpec k_unpushed{"calloutd_remote_unpushed_commits",
                            "Commits in the callouts repository not yet on the remote.", k_single};
const FamilySpec k_unpushed_age{"calloutd_remote_oldest_unpushed_commit_age_seconds",
                                "Age of the oldest commit not yet on the remote (0 when none).",
                                k_single};
const FamilySpec k_pushes{"calloutd_remote_pushes_total",
                          "Pushes to the remote, by outcome (pushed, rejected, failed).",
                          each("outcome", {"pushed", "rejected", "failed"})};
const FamilySpec k_fetches{"calloutd_remote_fetches_total",
                           "Fetches from the remote, by outcome (ok, failed).",
                           each("outcome", {"ok", "failed"})};
const FamilySpec k_remote_up{"calloutd_remote_up",
                             "1 when the last fetch or push reached the remote, else 0.", k_single};

// Registers `spec` with `builder` and adds the series it lists.
template <typename Builder>
auto& registered(Builder builder, prometheus::Registry& registry, const FamilySpec& spec) {
  auto& family = builder.Name(spec.name).Help(spec.help).Register(registry);
  for (const auto& labels : spec.series) {
    if constexpr (std::is_same_v<Builder, decltype(BuildHistogram())>) {
      family.Add(labels, *spec.buckets);
    } else {
      family.Add(labels);
    }
  }
  return family;
}

prometheus::Family<prometheus::Counter>& counters(prometheus::Registry& r, const FamilySpec& s) {
  return registered(BuildCounter(), r, s);
}
prometheus::Family<prometheus::Gauge>& gauges(prometheus::Registry& r, const FamilySpec& s) {
  return registered(BuildGauge(), r, s);
}
prometheus::Family<prometheus::Histogram>& histograms(prometheus::Registry& r,
                                                      const FamilySpec& s) {
  return registered(BuildHistogram(), r, s);
}
// The one series of a family without labels.
prometheus::Counter& counter(prometheus::Registry& r, const FamilySpec& s) {
  return counters(r, s).Add({});
}
prometheus::Gauge& gauge(prometheus::Registry& r, const FamilySpec& s) {
  return gauges(r, s).Add({});
}
prometheus::Histogram& histogram(prometheus::Registry& r, const FamilySpec& s) {
  return histograms(r, s).Add({}, *s.buckets);
}

}  // namespace

Metrics::Metrics()
    : m_start_time_seconds(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count()),
      m_registry(std::make_shared<prometheus::Registry>()),
      m_requests(counters(*m_registry, k_requests)),
      m_events(counters(*m_registry, k_events)),
      m_commits(counter(*m_registry, k_commits)),
      m_unsafe_paths(counter(*m_registry, k_unsafe_paths)),
      m_webhook_to_commit(histogram(*m_registry, k_webhook_to_commit)),
      m_time_to_ack(histograms(*m_registry, k_time_to_ack)),
      m_time_to_resolve(histograms(*m_registry, k_time_to_resolve)),
      m_journal_pending(gauge(*m_registry, k_journal_pending)),
      m_commit_retries(counter(*m_registry, k_commit_retries)),
      m_events_held(gauges(*m_registry, k_events_held)),
      m_gate_bypassed(counters(*m_registry, k_gate_bypassed)),
      m_target_breaches(counters(*m_registry, k_target_breaches)),
      m_past_target(gauges(*m_registry, k_past_target)),
      m_reload_successful(gauge(*m_registry, k_reload_successful)),
      m_reload_success_time(gauge(*m_registry, k_reload_success_time)),
      m_journal_quarantined(counter(*m_registry, k_journal_quarantined)),
      m_state_unreadable(counters(*m_registry, k_state_unreadable)),
      m_open(gauges(*m_registry, k_open)),
      m_items_open(gauges(*m_registry, k_items_open)),
      m_items_overdue(gauges(*m_registry, k_items_overdue)),
      m_postmortems_pending(gauges(*m_registry, k_postmortems_pending)),
      m_postmortems_overdue(gauge(*m_registry, k_postmortems_overdue)),
      m_callouts(counters(*m_registry, k_callouts)),
      m_problem_files(gauges(*m_registry, k_problem_files)),
      m_scan_duration(histogram(*m_registry, k_scan_duration)),
      m_last_scan(gauge(*m_registry, k_last_scan)),
      m_on_shift(gauges(*m_registry, k_on_shift)),
      m_work_seconds(gauges(*m_registry, k_work_seconds)),
      m_over_limit(gauge(*m_registry, k_over_limit)),
      m_breaches(counter(*m_registry, k_breaches)),
      m_handovers_overdue(gauge(*m_registry, k_handovers_overdue)),
      m_build_info(gauges(*m_registry, k_build_info)) {
  m_on_shift_set = {&m_on_shift, {}};
  m_work_set = {&m_work_seconds, {}};
  m_open_set = {&m_open, {}};
  m_items_open_set = {&m_items_open, {}};
  m_items_overdue_set = {&m_items_overdue, {}};
  m_pending_set = {&m_postmortems_pending, {}};
  m_problem_set = {&m_problem_files, {}};
  register_http();
  register_repository();
}

void Metrics::declare(const KnownLabels& known) {
  std::lock_guard lock(m_scan_mutex);
  // In the scan's sets too: a scan that no longer finds one sets it to 0.
  auto add = [](Replaced& r, const Labels& labels) { r.known.push_back(&r.family->Add(labels)); };
  for (const auto& technology : known.technologies) {
    for (const auto& severity : known.severities) {
      add(m_open_set, {{"severity", severity}, {"technology", technology}});
    }
    for (const auto& type : known.item_types) {
      add(m_items_open_set, {{"technology", technology}, {"type", type}});
      add(m_items_overdue_set, {{"technology", technology}, {"type", type}});
    }
    // The issue is known only once a callout names it.
    m_callouts.Add({{"technology", technology}, {"issue", ""}});
  }
}

void Metrics::set_build_info(const BuildInfo& info) {
  m_build_info
      .Add({{"version", info.version}, {"revision", info.revision}, {"libgit2", info.libgit2}})
      .Set(1);
}

void Metrics::count_request(const std::string& receiver, const std::string& outcome) {
  m_requests.Add({{"receiver", receiver}, {"outcome", outcome}}).Increment();
}

void Metrics::count_event(const std::string& outcome) {
  m_events.Add({{"outcome", outcome}}).Increment();
}

void Metrics::register_http() {
  m_http.open = &gauge(*m_registry, k_http_open);
  m_http.refused = &counters(*m_registry, k_http_refused);
  m_http.idle_closed = &counter(*m_registry, k_http_idle_closed);
  m_http.timeouts = &counters(*m_registry, k_http_timeouts);
  m_http.connection_errors = &counters(*m_registry, k_http_connection_errors);
}

void Metrics::count_http_connection_error(const std::string& reason) {
  m_http.connection_errors->Add({{"reason", reason}}).Increment();
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

void Metrics::set_response_targets(
    const std::map<std::pair<std::string, std::string>, int>& past,
    const std::vector<std::pair<std::string, std::string>>& breaches) {
  for (const auto& labels : severity_targets()) {
    auto it = past.find({labels.at("severity"), labels.at("target")});
    m_past_target.Add(labels).Set(it == past.end() ? 0 : it->second);
  }
  for (const auto& [severity, target] : breaches) {
    m_target_breaches.Add({{"severity", severity}, {"target", target}}).Increment();
  }
}

void Metrics::count_review_gate_bypassed(const std::string& status) {
  m_gate_bypassed.Add({{"status", status}}).Increment();
}

void Metrics::set_config_reloaded(bool successful) {
  m_reload_successful.Set(successful ? 1 : 0);
  if (successful) {
    m_reload_success_time.SetToCurrentTime();
  }
}

void Metrics::register_repository() {
  m_repository.size = &gauge(*m_registry, k_repo_size);
  m_repository.loose = &gauge(*m_registry, k_repo_loose);
  m_repository.packs = &gauge(*m_registry, k_repo_packs);
  m_repository.size_limit = &gauge(*m_registry, k_repo_size_limit);
  m_repository.last_run = &gauge(*m_registry, k_maintenance_last_run);
  m_repository.duration = &gauge(*m_registry, k_maintenance_duration);
  m_repository.runs = &counters(*m_registry, k_maintenance_runs);
  m_repository.gc_log = &gauge(*m_registry, k_gc_log);
  m_repository.state_files = &gauge(*m_registry, k_state_files);
  m_repository.state_pruned = &counter(*m_registry, k_state_pruned);
}

void Metrics::set_repository_objects(double size_bytes, double loose_objects, double packs) {
  m_repository.size->Set(size_bytes);
  m_repository.loose->Set(loose_objects);
  m_repository.packs->Set(packs);
}

void Metrics::set_repository_size_limit(double bytes) {
  m_repository.size_limit->Set(bytes);
}

void Metrics::record_maintenance(const std::string& outcome, double seconds) {
  m_repository.runs->Add({{"outcome", outcome}}).Increment();
  m_repository.duration->Set(seconds);
  m_repository.last_run->SetToCurrentTime();
}

void Metrics::set_gc_log_present(bool present) {
  m_repository.gc_log->Set(present ? 1 : 0);
}

void Metrics::set_state_files(std::size_t files) {
  m_repository.state_files->Set(static_cast<double>(files));
}

void Metrics::count_state_pruned(std::size_t pruned) {
  m_repository.state_pruned->Increment(static_cast<double>(pruned));
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
  m_unpushed = &gauge(*m_registry, k_unpushed);
  m_unpushed_age = &gauge(*m_registry, k_unpushed_age);
  m_pushes = &counters(*m_registry, k_pushes);
  m_fetches = &counters(*m_registry, k_fetches);
  m_remote_up = &gauge(*m_registry, k_remote_up);
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

void Metrics::set_events_held(const std::map<std::string, std::size_t>& by_reason) {
  for (const char* reason : {"state_unreadable", "write_up_unreadable", "folder_unsafe"}) {
    auto it = by_reason.find(reason);
    m_events_held.Add({{"reason", reason}})
        .Set(it == by_reason.end() ? 0.0 : static_cast<double>(it->second));
  }
}

void Metrics::set_journal_pending(double count) {
  m_journal_pending.Set(count);
}

void Metrics::count_journal_quarantined(std::size_t records) {
  m_journal_quarantined.Increment(static_cast<double>(records));
}

void Metrics::set_state_files_unreadable(const std::map<std::string, std::uint64_t>& totals) {
  std::lock_guard lock(m_scan_mutex);
  // A counter only goes up: add what the engine found since the last call.
  for (const auto& [kind, n] : totals) {
    std::uint64_t& seen = m_state_unreadable_seen[kind];
    if (n > seen) {
      m_state_unreadable.Add({{"kind", kind}}).Increment(static_cast<double>(n - seen));
      seen = n;
    }
  }
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

namespace {

// The exceptions each thread survived (base/keep_running.hpp), read at the
// scrape; every thread is listed from the start, at 0.
prometheus::MetricFamily thread_exceptions() {
  prometheus::MetricFamily family{
      "calloutd_thread_exceptions_total",
      "Exceptions that escaped a thread's work and that the daemon survived (a bug: the log "
      "has each with its thread).",
      prometheus::MetricType::Counter,
      {}};
  auto survived = survived_exceptions();
  for (const char* thread : {"engine", "http", "maintenance", "remote", "watchdog"}) {
    survived.try_emplace(thread, 0);
  }
  for (const auto& [thread, count] : survived) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"thread", thread});
    metric.counter.value = static_cast<double>(count);
    family.metric.push_back(std::move(metric));
  }
  return family;
}

}  // namespace

std::string Metrics::serialize() const {
  auto families = m_registry->Collect();
  for (auto& family : process_metrics(m_start_time_seconds)) {
    families.push_back(std::move(family));
  }
  families.push_back(thread_exceptions());
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace calloutd
