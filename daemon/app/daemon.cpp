#include "daemon/app/daemon.hpp"

#include <git2.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "daemon/app/watchdog.hpp"
#include "daemon/base/clock.hpp"
#include "daemon/base/log.hpp"
#include "daemon/base/plural.hpp"
#include "daemon/config/reload.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/git/maintenance.hpp"
#include "daemon/git/repository.hpp"
#include "daemon/http/http_server.hpp"
#include "daemon/http/tls.hpp"
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

// The embedded templates, or those of `templates_dir` when set.
Result<Templates> load_templates(const Config& config) {
  if (config.templates_dir.empty()) {
    return Templates::embedded();
  }
  return Templates::load(config.templates_dir);
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

// The parts, in the order they are built (each receives the ones before it)
// and destroyed in reverse. libgit2 must be initialised first.
class Daemon {
 public:
  Daemon(const Config& config, ConfigReader reread, Templates templates);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Binds the HTTP address: the port, or why not.
  Result<int> bind() { return m_http.bind(m_config.listen_address); }
  // Serves TLS with `tls` from the next connection on (nullptr: plain HTTP).
  void use_tls(TlsContext tls) {
    m_tls = tls != nullptr;
    m_http.use_tls(std::move(tls));
  }
  // Catches up with the journal, then serves (READY=1).
  void start(int port);
  // Reloads the configuration on SIGHUP until SIGTERM or SIGINT arrives.
  void serve_signals();
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
  // The 4-hour rule, and the responder metrics it feeds; then tidy_state.
  void check_work_limits();
  // .calloutd/ pruned and moved to shards (at the first tick, then hourly),
  // and the state metrics.
  void tidy_state();
  // systemd's watchdog, when the unit sets WatchdogSec=: pinged while the
  // engine's strand and the HTTP I/O loop answer.
  void start_watchdog();
  // Reads the configuration again and applies it whole, or nothing of it:
  // the restart-only settings that changed, or every error. Logged and
  // counted; one reload at a time.
  Result<std::vector<std::string>> reload();
  Result<std::vector<std::string>> apply_reload();

  const Config& m_config;  // as started: the restart-only settings
  ConfigReader m_reread;
  std::mutex m_reload_mutex;
  std::shared_ptr<const Config> m_running;  // the latest loaded; under m_reload_mutex
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
  bool m_tls = false;  // what "listening" says
  SystemdWatchdogNotifier m_notifier;
  std::unique_ptr<Watchdog> m_watchdog;
};

Daemon::Daemon(const Config& config, ConfigReader reread, Templates templates)
    : m_config(config),
      m_reread(std::move(reread)),
      m_running(std::make_shared<const Config>(config)),
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
  m_metrics.set_state_files(m_engine.state_count());
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
  m_http.set_admission([this](const Payload& request) { return m_engine.admit(request); });
  m_http.set_reload([this] { return reload(); });
  m_metrics.set_config_reloaded(true);
}

Result<std::vector<std::string>> Daemon::reload() {
  std::lock_guard lock(m_reload_mutex);
  auto applied = apply_reload();
  m_metrics.set_config_reloaded(static_cast<bool>(applied));
  if (!applied) {
    log::error("configuration not reloaded: the running one stays in force",
               {{"config", m_running->source}, {"error", applied.error()}});
  } else if (applied->empty()) {
    log::info("configuration reloaded", {{"config", m_running->source}});
  } else {
    log::warn("configuration reloaded; changed settings that apply only after a restart",
              {{"config", m_running->source}, {"restart_needed", join(*applied, ", ")}});
  }
  return applied;
}

Result<std::vector<std::string>> Daemon::apply_reload() {
  auto loaded = m_reread();
  if (!loaded.errors.empty()) {
    return Error{join(loaded.errors, "\n")};
  }
  if (auto weaker = weakens_authentication(*m_running, loaded.config); !weaker.empty()) {
    return Error{loaded.config.source + ": " + weaker};
  }
  auto restart_needed = restart_only_changes(*m_running, loaded.config);
  auto config = std::make_shared<const Config>(keep_restart_only(*m_running, loaded.config));
  if (auto exposure = unauthenticated_exposure(*config); !exposure.empty()) {
    return Error{config->source + ": " + exposure};
  }
  auto templates = load_templates(*config);
  if (!templates) {
    return Error{"templates_dir: " + templates.error()};
  }
  // The web-config file and the certificate and key it names, read again (a
  // replaced certificate); refused with the rest when they do not load.
  auto tls = load_tls(m_config.web_config_file);
  if (!tls) {
    return Error{tls.error()};
  }
  auto shared_templates = std::make_shared<const Templates>(std::move(*templates));
  // Between two events on the strand: the next event is decided with the new
  // configuration, none is lost or decided half with each.
  m_pipeline.run_on_strand([&] {
    m_engine.reconfigure(config, shared_templates);
    m_scanner.set_postmortem_overdue_after(config->postmortem_overdue_after);
  });
  m_http.reconfigure(config);
  use_tls(std::move(*tls));  // the next connection's handshake on
  m_metrics.declare(known_labels(*config));
  m_running = config;
  return restart_needed;
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
  auto targets = m_engine.response_stats(m_clock.now());
  m_metrics.set_response_targets(targets.past, targets.breaches);
  // State files found unreadable since the last tick (at start, by a fetch, by an event).
  m_metrics.set_state_files_unreadable(m_engine.unreadable_state_files());
  tidy_state();
}

void Daemon::tidy_state() {
  auto tidy = m_engine.tidy_state(m_clock.now());
  m_metrics.count_state_pruned(tidy.pruned);
  m_metrics.set_state_files(m_engine.state_count());
  if (!tidy.commit.empty()) {
    m_pipeline.publish();  // a commit outside the pipeline, published like its own
  }
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
  log::info("listening", {{"address", m_config.listen_address},
                          {"port", std::to_string(port)},
                          {"tls", m_tls ? "on" : "off"}});
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

void Daemon::serve_signals() {
  sigset_t signals = block_daemon_signals();
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    log::info("reloading the configuration", {{"signal", "SIGHUP"}});
    sd_notify(0, "RELOADING=1");
    (void)reload();  // logged and counted; the old configuration stays when it fails
    sd_notify(0, "READY=1");
  }
  log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
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

sigset_t block_daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int run_daemon(const Config& config, ConfigReader reread) {
  raise_open_files_limit();
  auto templates = load_templates(config);
  if (!templates) {
    log::error("bad templates", {{"error", templates.error()}});
    return 1;
  }
  git_libgit2_init();
  Daemon daemon(config, std::move(reread), std::move(*templates));
  auto tls = load_tls(config.web_config_file);
  if (!tls) {
    log::error("bad web config", {{"error", tls.error()}});
    return 1;
  }
  daemon.use_tls(std::move(*tls));
  auto port = daemon.bind();
  if (!port) {
    log::error("cannot serve HTTP", {{"error", port.error()}});
    return 1;
  }
  daemon.start(*port);
  // Reload on SIGHUP; on SIGTERM/SIGINT drain: stop accepting, apply what was accepted.
  daemon.serve_signals();
  daemon.drain();
  git_libgit2_shutdown();
  return 0;
}

}  // namespace calloutd
