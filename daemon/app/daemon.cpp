#include "daemon/app/daemon.hpp"

#include <git2.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "daemon/app/watchdog.hpp"
#include "daemon/base/clock.hpp"
#include "daemon/base/log.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/git/maintenance.hpp"
#include "daemon/git/repository.hpp"
#include "daemon/http/http_server.hpp"
#include "daemon/journal/journal.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/pipeline/pipeline.hpp"
#include "daemon/scanner/scanner.hpp"
#include "daemon/sync/remote_sync.hpp"
#include "daemon/writeup/postmortem.hpp"
#include "daemon/writeup/render.hpp"

namespace calloutd {
namespace {

// Each HTTP connection is a file descriptor: take the hard limit (as Go's
// runtime does), so that web.max_connections, not the soft 1024, is the cap.
void raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// The embedded templates, or those of `templates_dir` when set (logged when bad).
std::optional<Templates> load_templates(const Config& config) {
  Templates templates = Templates::embedded();
  if (!config.templates_dir.empty()) {
    auto loaded = Templates::load(config.templates_dir);
    if (!loaded) {
      log::error("bad templates", {{"error", loaded.error()}});
      return std::nullopt;
    }
    templates = std::move(*loaded);
  }
  return templates;
}

// The label values the metrics show at 0 from the start: both severities,
// every technology a route names (and `unclassified`, where an Alertmanager
// route leaves the technology to the labels), every action-item type.
KnownLabels known_labels(const Config& config) {
  std::set<std::string> technologies;
  for (const auto& route : config.routes) {
    technologies.insert(route.technology.empty() ? "unclassified" : route.technology);
  }
  if (config.pagerduty.enabled) {
    // Without a route's technology PagerDuty's comes from the service: the
    // mapped ones are known, the others not before an incident names them.
    for (const auto& route : config.pagerduty.routes) {
      if (!route.technology.empty()) {
        technologies.insert(route.technology);
      }
    }
    for (const auto& [service, technology] : config.pagerduty.services) {
      technologies.insert(technology);
    }
  }
  return {{severity_name(Severity::mpi), severity_name(Severity::hpi)},
          {technologies.begin(), technologies.end()},
          action_item_types()};
}

BuildInfo build_info() {
  int major = 0, minor = 0, revision = 0;
  git_libgit2_version(&major, &minor, &revision);
  return {CALLOUTD_VERSION, CALLOUTD_REVISION,
          std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(revision)};
}

// Blocks until SIGTERM or SIGINT arrives.
void wait_for_stop_signal() {
  sigset_t signals = block_stop_signals();
  int sig = 0;
  sigwait(&signals, &sig);
  log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
}

// The parts, in the order they are built (each receives the ones before it)
// and destroyed in reverse. libgit2 must be initialised first.
class Daemon {
 public:
  Daemon(const Config& config, Templates templates);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Binds the HTTP address: the port, or why not.
  Result<int> bind() { return m_http.bind(m_config.listen_address); }
  // Catches up with the journal, then serves (READY=1).
  void start(int port);
  // Stops accepting, then applies and pushes what was accepted (STOPPING=1).
  void drain();

 private:
  // Before the pipeline is built (it publishes the open incidents at once):
  // the journal's set-aside files are counted and the engine reads its state.
  Engine& loaded_engine();
  // The pipeline's commits wake the scan loop and the remote sync; the scan
  // loop's ticks run the 4-hour rule; HTTP asks the engine about incidents;
  // the metrics learn the build and the label values known in advance.
  void wire();
  // The 4-hour rule, and the responder metrics it feeds.
  void check_work_limits();
  // systemd's watchdog, when the unit sets WatchdogSec=: pinged while the
  // engine's strand and the HTTP I/O loop answer.
  void start_watchdog();

  const Config& m_config;
  Templates m_templates;
  GitRepository m_repository;
  Journal m_journal;
  Metrics m_metrics;
  Engine m_engine;
  Pipeline m_pipeline;
  SystemClock m_clock;
  Scanner m_scanner;
  // People's edits the scanner reads go to the pipeline (journal, engine).
  ScanLoop m_scan_loop;
  // The team's remote, when configured: commits are pushed, others' fetched.
  std::unique_ptr<RemoteSync> m_remote;
  // git gc --auto on a thread of its own, between commits and pushes.
  Maintenance m_maintenance;
  HttpServer m_http;
  std::thread m_server;
  SystemdWatchdogNotifier m_notifier;
  std::unique_ptr<Watchdog> m_watchdog;
};

Daemon::Daemon(const Config& config, Templates templates)
    : m_config(config),
      m_templates(std::move(templates)),
      m_repository({config.repo_path, config.branch, config.author_name, config.author_email}),
      m_journal(config.effective_journal_dir()),
      m_engine(config, m_repository, m_templates),
      m_pipeline(m_journal, loaded_engine(), m_metrics, config.max_pending_events),
      m_scanner(m_repository, m_metrics, config.postmortem_overdue_after),
      m_scan_loop(m_pipeline, m_scanner, m_repository, m_clock, config.poll_interval),
      m_remote(config.remote.enabled()
                   ? std::make_unique<RemoteSync>(config, m_repository, m_engine, m_journal,
                                                  m_pipeline, m_metrics)
                   : nullptr),
      m_maintenance(config.maintenance, config.repo_path, m_repository.writing(),
                    [this](const MaintenanceReport& r) {
                      m_metrics.set_repository_objects(static_cast<double>(r.store.size_bytes),
                                                       static_cast<double>(r.store.loose_objects),
                                                       static_cast<double>(r.store.packs));
                      m_metrics.set_gc_log_present(r.gc_log);
                      if (r.outcome) {
                        m_metrics.record_maintenance(gc_outcome_name(*r.outcome),
                                                     r.duration_seconds);
                      }
                    }),
      m_http(config, m_pipeline, m_metrics,
             [this](const std::string& incident, const std::string& status) {
               return m_engine.postmortem_blockers(incident, status);
             }) {
  wire();
}

Engine& Daemon::loaded_engine() {
  m_metrics.count_journal_quarantined(m_journal.quarantined().size());
  m_engine.load();
  m_metrics.set_state_files_unreadable(m_engine.unreadable_state_files());
  return m_engine;
}

void Daemon::wire() {
  m_metrics.declare(known_labels(m_config));
  m_metrics.set_build_info(build_info());
  m_metrics.set_repository_size_limit(static_cast<double>(m_config.maintenance.size_limit_bytes));
  m_pipeline.set_after_commit([this] {
    m_scan_loop.poke();
    if (m_remote) {
      m_remote->poke();
    }
  });
  m_scan_loop.on_tick([this] {
    check_work_limits();
    m_http.log_refusal_counts();
  });
  m_http.set_incident_lookup(
      [this](const std::string& incident) { return m_engine.has_incident(incident); });
}

void Daemon::check_work_limits() {
  // What the engine commits outside the pipeline is published like the
  // pipeline's own commits: open incidents for the API, a rescan, a push.
  auto head_before = m_repository.head();
  m_engine.check_work_limits(m_clock.now());
  if (m_repository.head() != head_before) {
    m_pipeline.publish();
  }
  auto r = m_engine.responder_stats(m_clock.now());
  m_metrics.set_responders(r.on_shift_by_role, r.work_seconds, r.over_limit, r.breaches,
                           r.handovers_overdue);
  // State files found unreadable since the last tick (at start, by a fetch, by an event).
  m_metrics.set_state_files_unreadable(m_engine.unreadable_state_files());
}

void Daemon::start(int port) {
  // Catch up with the journal (alerts accepted before a crash), then serve.
  // The remote is fetched on its own thread from the start: a slow or
  // unreachable remote never delays accepting alerts.
  m_pipeline.replay();
  m_scan_loop.start();  // the metrics are exact from the first scrape on
  m_pipeline.start();
  if (m_remote) {
    m_remote->start();
  }
  m_maintenance.start();
  m_http.set_ready(true);
  m_server = std::thread([this] { m_http.run(); });
  log::info("listening", {{"address", m_config.listen_address}, {"port", std::to_string(port)}});
  sd_notify(0, "READY=1");
  start_watchdog();
}

void Daemon::start_watchdog() {
  auto interval = systemd_watchdog_interval();
  if (!interval) {
    return;
  }
  std::vector<WatchdogProbe> probes{
      {"engine strand", [this](auto answer) { boost::asio::post(m_pipeline.io(), answer); }},
      {"HTTP I/O loop", [this](auto answer) { m_http.post_to_io(answer); }}};
  m_watchdog = std::make_unique<Watchdog>(m_notifier, std::move(probes), *interval);
  m_watchdog->start();
  log::info("systemd watchdog on", {{"interval", std::to_string(interval->count() / 1000) + "ms"}});
}

void Daemon::drain() {
  sd_notify(0, "STOPPING=1");
  if (m_watchdog) {
    m_watchdog->stop();  // systemd stops watching once stopping; TimeoutStopSec= bounds the drain
  }
  m_http.set_ready(false);
  m_http.stop();
  m_server.join();
  m_scan_loop.stop();
  if (m_remote) {
    m_remote->stop();
  }
  m_maintenance.stop();  // a running gc is killed: git leaves the repository consistent
  m_pipeline.stop();
  if (m_remote) {
    m_remote->final_push();
  }
  log::info("stopped cleanly", {{"pending", std::to_string(m_pipeline.pending())}});
}

}  // namespace

sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int run_daemon(const Config& config) {
  raise_open_files_limit();
  auto templates = load_templates(config);
  if (!templates) {
    return 1;
  }
  git_libgit2_init();
  Daemon daemon(config, std::move(*templates));
  auto port = daemon.bind();
  if (!port) {
    log::error("cannot serve HTTP", {{"error", port.error()}});
    return 1;
  }
  daemon.start(*port);
  // Wait for SIGTERM/SIGINT, then drain: stop accepting, apply what was accepted.
  wait_for_stop_signal();
  daemon.drain();
  git_libgit2_shutdown();
  return 0;
}

}  // namespace calloutd
