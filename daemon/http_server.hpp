// The HTTP front: receivers' endpoints, /metrics, health and the incidents
// list, on cpp-httplib. Errors are JSON `{"error": "..."}`.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "daemon/config.hpp"
#include "daemon/metrics.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/result.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace calloutd {

class HttpServer {
 public:
  // Checks a postmortem status change (on the engine's strand): what blocks it,
  // or an error when the incident is unknown.
  using PostmortemCheck = std::function<Result<std::vector<std::string>>(
      const std::string& incident, const std::string& status)>;

  HttpServer(const Config& config, Pipeline& pipeline, Metrics& metrics,
             PostmortemCheck check = {});

  // Answers whether an incident id is known (on the engine's strand).
  void set_incident_lookup(std::function<bool(const std::string&)> lookup) {
    m_has_incident = std::move(lookup);
  }
  ~HttpServer();

  // Binds `address` (`HOST:PORT`; port 0 picks a free one). Returns the port.
  Result<int> bind(const std::string& address);
  // Serves until stop(); blocks the calling thread.
  void run();
  // Stops accepting and waits for requests in flight. Thread-safe.
  void stop();
  void set_ready(bool ready) { m_ready = ready; }

 private:
  void handle_alertmanager(const httplib::Request& req, httplib::Response& res);
  void handle_pagerduty(const httplib::Request& req, httplib::Response& res);
  void handle_postmortem_status(const httplib::Request& req, httplib::Response& res);
  void handle_new(const httplib::Request& req, httplib::Response& res);
  void handle_roles(const httplib::Request& req, httplib::Response& res);
  // PagerDuty X-Webhook-Ids of recently journaled deliveries (bounded).
  bool seen_delivery(const std::string& webhook_id);
  void remember_delivery(const std::string& webhook_id);
  bool authorized(const ReceiverAuth& auth, const httplib::Request& req) const;

  const Config& m_config;
  Pipeline& m_pipeline;
  Metrics& m_metrics;
  std::unique_ptr<httplib::Server> m_server;
  std::atomic<bool> m_ready{false};
  PostmortemCheck m_engine_check;
  std::function<bool(const std::string&)> m_has_incident;
  std::mutex m_deliveries_mutex;
  std::deque<std::string> m_recent_deliveries;  // oldest first, bounded
  std::set<std::string> m_recent_delivery_set;
};

// Splits `HOST:PORT` (`[::1]:9095` too). Error names the bad address.
Result<std::pair<std::string, int>> split_host_port(const std::string& address);

}  // namespace calloutd
