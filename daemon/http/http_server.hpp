// calloutd's endpoints: the receivers, the incidents API, /metrics and
// health, on the HTTP transport of http_listener.hpp. Errors are JSON
// `{"error": "..."}`.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>

#include <nlohmann/json_fwd.hpp>

#include "daemon/base/clock.hpp"
#include "daemon/base/result.hpp"
#include "daemon/config/config.hpp"
#include "daemon/http/auth_log.hpp"
#include "daemon/http/http_listener.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/pipeline/submitter.hpp"

namespace calloutd {

class HttpServer {
 public:
  // Checks a postmortem status change (on the engine's strand): what blocks it,
  // or an error when the incident is unknown.
  using PostmortemCheck = std::function<Result<std::vector<std::string>>(
      const std::string& incident, const std::string& status)>;

  // `pipeline`: the Pipeline, or a fake in tests.
  HttpServer(const Config& config, Submitter& pipeline, Metrics& metrics,
             PostmortemCheck check = {});

  // Checks an API request against the engine's state before it is journaled
  // (on the engine's strand; Engine::admit): unknown incidents, refusals,
  // requests that would change nothing.
  using Admission = std::function<Engine::Admission(const Payload&)>;
  void set_admission(Admission admit) { m_admit = std::move(admit); }
  ~HttpServer();

  // Reloads the configuration for POST /-/reload: the restart-only settings
  // that changed (kept as they were), or every error (nothing changed).
  using Reload = std::function<Result<std::vector<std::string>>()>;
  void set_reload(Reload reload) { m_reload = std::move(reload); }
  // From the next request on, `config`'s credentials, receivers and limits
  // on bodies (a reload). Thread-safe.
  void reconfigure(std::shared_ptr<const Config> config);

  // Binds `address` (`HOST:PORT`; port 0 picks a free one). Returns the port.
  Result<int> bind(const std::string& address) { return m_listener->bind(address); }
  // Serves until stop(); blocks the calling thread.
  void run() { m_listener->run(); }
  // Stops accepting and waits for requests in flight. Thread-safe.
  void stop() { m_listener->stop(); }
  // Serves TLS with `tls` from the next connection on (nullptr: plain HTTP). Thread-safe.
  void use_tls(TlsContext tls) { m_listener->use_tls(std::move(tls)); }
  // Runs `task` on the HTTP I/O loop (the watchdog's probe). Thread-safe.
  void post_to_io(std::function<void()> task) { m_listener->post(std::move(task)); }
  void set_ready(bool ready) { m_ready = ready; }
  // Logs the counts of refused credentials that are due (call every few seconds).
  void log_refusal_counts();

 private:
  std::vector<HttpRoute> routes();
  HttpResponse handle_alertmanager(const HttpRequest& req);
  HttpResponse handle_pagerduty(const HttpRequest& req);
  HttpResponse handle_postmortem_status(const HttpRequest& req);
  HttpResponse handle_new(const HttpRequest& req);
  HttpResponse handle_roles(const HttpRequest& req);
  HttpResponse handle_resolve(const HttpRequest& req);
  HttpResponse handle_ack(const HttpRequest& req);
  // Journals the API request `request` (journal record `record`) once the
  // engine admits it; 202 with `accepted`, else the engine's 404, 409 or 200.
  HttpResponse submit_request(Payload request, const std::string& record,
                              const nlohmann::json& accepted);
  // Runs `task`, which waits for the engine's strand, for an API request; or
  // answers 503 when k_max_strand_waiters requests wait there already:
  // whatever holds the strand, the other workers stay free for webhooks,
  // which never wait on it.
  template <typename Task>
  std::variant<decltype(std::declval<Task>()()), HttpResponse> waiting_for_engine(Task task);
  HttpResponse handle_incidents() const;
  HttpResponse handle_ready() const;
  HttpResponse handle_reload();
  std::shared_ptr<const Config> config() const;
  // PagerDuty X-Webhook-Ids of deliveries journaled within PagerDuty's
  // 48-hour retry window (bounded).
  bool seen_delivery(const std::string& webhook_id);
  void remember_delivery(const std::string& webhook_id);
  // The admission check of an authenticated route: nothing, or the 401.
  std::optional<HttpResponse> check_credentials(const HttpRequest& head,
                                                const std::string& receiver);
  // Logs a 401 for `reason` (rate-limited by m_auth_log).
  void log_refusal(const HttpRequest& head, const std::string& reason);

  mutable std::mutex m_config_mutex;
  std::shared_ptr<const Config> m_config;  // replaced whole by a reload
  Reload m_reload;
  Submitter& m_pipeline;
  Metrics& m_metrics;
  std::atomic<bool> m_ready{false};
  PostmortemCheck m_engine_check;
  std::atomic<int> m_strand_waiters{0};
  Admission m_admit;
  std::mutex m_deliveries_mutex;
  std::deque<std::pair<std::string, std::chrono::steady_clock::time_point>> m_recent_deliveries;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> m_recent_delivery_set;
  SystemClock m_clock;
  AuthFailureLog m_auth_log{m_clock};
  std::unique_ptr<HttpListener> m_listener;
};

// Why `config` may not start as it is: listening beyond loopback with no
// credentials, unless web.allow_unauthenticated says so. Empty when fine.
std::string unauthenticated_exposure(const Config& config);

}  // namespace calloutd
