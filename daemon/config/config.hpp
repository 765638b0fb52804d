// The daemon's configuration: defaults, the YAML file, then flags on top.
// Every problem in the file is collected as `FILE:LINE: message`.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/matcher.hpp"
#include "daemon/config/rota.hpp"

namespace calloutd {

enum class Severity { mpi, hpi, ignore };
std::string severity_name(Severity s);  // "MPI", "HPI", "ignore"

// A route: the first whose matchers all match an alert's labels decides.
struct Route {
  std::vector<Matcher> matchers;
  Severity severity = Severity::hpi;
  std::string technology;              // slug; empty: from the alert labels
  std::string dashboard_url_template;  // mustache placeholders from labels: {{cluster}}
  std::string name;                    // for logs: "routes[2]" or "default"
  // PagerDuty routes only: severity from the priority/urgency map when unset,
  // and whether unsigned deliveries may use this route.
  bool severity_from_map = false;
  bool require_signature = false;
};

// The PagerDuty V3 receiver. Enabled by its section in the config.
struct PagerDutyConfig {
  bool enabled = false;
  std::vector<std::string> secrets;  // signing secrets; several during rotation
  bool allow_unsigned = false;       // explicit choice; warned about at start
  std::size_t max_body_bytes = 256 * 1024;
  // Priority (P1...) first, then urgency (high, low) -> severity.
  std::map<std::string, Severity> severity_map{{"P1", Severity::mpi},
                                               {"P2", Severity::hpi},
                                               {"high", Severity::mpi},
                                               {"low", Severity::hpi}};
  std::map<std::string, std::string> services;  // service id or name -> technology slug
  // Matched against labels made from the incident: service, service_id, team,
  // urgency, priority, escalation_policy. Default: one route, every incident.
  std::vector<Route> routes = default_routes();

  static std::vector<Route> default_routes();
};

struct BasicAuth {
  std::string username;
  std::string password;
};

// Credentials a receiver demands. Empty: no authentication.
struct ReceiverAuth {
  std::string bearer_token;
  std::vector<BasicAuth> basic;
  bool enabled() const { return !bearer_token.empty() || !basic.empty(); }
};

// The seed's rule: a lone operational engineer works at most 4 hours.
struct ShiftsConfig {
  std::chrono::seconds work_limit{4 * 3600};
  std::chrono::seconds warning_lead{30 * 60};
  std::chrono::seconds short_break{15 * 60};  // does not reset the clock
};

// How soon an incident of a severity is to be acknowledged and resolved (the
// seed: critical now, error soon). An incident past one counts a breach when
// the time passes, not at its resolution.
struct ResponseTarget {
  std::chrono::seconds acknowledge;
  std::chrono::seconds resolve;
};

// The team's GitHub/GitLab repository the daemon pushes to and fetches from.
// Enabled by `repository.remote` in the config.
struct RemoteConfig {
  std::string url;  // ssh://, user@host:path, https://, or a path to a bare repository
  enum class Transport { ssh, https, local } transport = Transport::local;
  std::string ssh_key_file;      // private key (its .pub beside it is not needed)
  std::string known_hosts_file;  // host keys checked against, OpenSSH format
  bool accept_new_host_key =
      false;          // a host missing from known_hosts is added (never a changed key)
  std::string token;  // HTTPS: read from token_file; never logged
  std::string token_username = "x-access-token";  // GitHub; GitLab takes "oauth2"
  std::string ca_file;  // HTTPS: CA certificates (PEM) trusted besides the system's
  std::chrono::seconds fetch_interval{30};
  std::chrono::seconds connect_timeout{10};   // a host that drops packets fails this fast
  std::chrono::seconds max_retry_delay{300};  // backoff cap while the remote is unreachable
  bool enabled() const { return !url.empty(); }
};

// What one HTTP client may hold (web.* in the config): a slow or idle client
// costs a socket for at most these times, and only so many sockets.
struct HttpLimits {
  std::chrono::seconds header_timeout{10};  // the whole request head, from its first byte
  std::chrono::seconds body_timeout{30};    // the whole body
  std::chrono::seconds idle_timeout{60};    // between keep-alive requests
  std::chrono::seconds write_timeout{30};   // the whole answer
  std::size_t max_connections = 512;
  std::size_t max_connections_per_client = 32;  // by client address
};

// Keeping the clone small while the daemon runs (repository.maintenance):
// `git gc --auto` at most every `interval`, with git's loose-object threshold.
struct MaintenanceConfig {
  std::size_t gc_auto = 6700;                 // git's gc.auto; 0 turns gc off
  std::chrono::seconds interval{5 * 60};      // the least time between two runs
  std::size_t size_limit_bytes = 1ull << 30;  // .git/objects beyond this: the alert fires
};

struct Config {
  std::string source = "<embedded default>";
  std::string listen_address = "127.0.0.1:9095";
  // From flags only, not the file: --web.config.file (TLS) and
  // --web.enable-lifecycle (POST /-/reload).
  std::string web_config_file;
  bool enable_lifecycle = false;
  HttpLimits http;
  // Listening beyond loopback with no credentials configured needs this.
  bool allow_unauthenticated = false;
  // GET /api/v1/incidents and /metrics ask for the receivers' credentials too.
  bool authenticate_reads = false;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_pending_events = 10000;
  std::string repo_path = "./callouts";
  std::string branch = "main";
  std::string author_name = "calloutd";
  std::string author_email = "calloutd@localhost";
  std::string journal_dir;    // empty: <repo_path>/.git/calloutd
  std::string templates_dir;  // empty: the templates compiled into the binary
  std::chrono::seconds reopen_window{3600};
  // repository.state_retention: a resolved group's state file is removed
  // from .calloutd/groups/ this long after it resolved (never sooner than the
  // reopen window or PagerDuty's 48-hour redelivery window); at least 48h.
  // None: `forever`, never removed.
  std::optional<std::chrono::seconds> state_retention{std::chrono::hours(30 * 24)};
  std::chrono::seconds postmortem_overdue_after{24 * 3600};  // resolved, still a draft
  std::chrono::milliseconds poll_interval{2000};  // how often to look for engineers' commits
  RemoteConfig remote;
  MaintenanceConfig maintenance;
  ReceiverAuth alertmanager_auth;
  PagerDutyConfig pagerduty;
  ShiftsConfig shifts;
  // By severity; `response_targets.MPI.acknowledge` and the like.
  ResponseTarget mpi_target{std::chrono::minutes(15), std::chrono::hours(4)};
  ResponseTarget hpi_target{std::chrono::hours(1), std::chrono::hours(24)};
  const ResponseTarget& target_for(Severity s) const {
    return s == Severity::mpi ? mpi_target : hpi_target;
  }
  std::vector<Rota> rotas;  // on-call rotas; the first covering a technology pre-fills roles
  std::vector<Route> routes = default_routes();

  // critical|page -> MPI, error|high|major -> HPI; everything else is ignored.
  static std::vector<Route> default_routes();
  std::string effective_journal_dir() const;
};

struct LoadedConfig {
  Config config;
  std::vector<std::string> errors;  // each `FILE:LINE: message`; empty when valid
  // Every key the reader allows in the sections the file has (`routes[].matchers`):
  // the configuration reference in docs/ is checked against it.
  std::set<std::string> known_keys;
};

// Reads `path`. Files it names (tokens, passwords) are read relative to it.
LoadedConfig load_config(const std::string& path);

// Same, from text; `source` names it in messages and `base_dir` anchors relative paths.
LoadedConfig parse_config(const std::string& text, const std::string& source,
                          const std::string& base_dir);

}  // namespace calloutd
