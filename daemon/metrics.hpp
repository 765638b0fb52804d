// The daemon's Prometheus metrics (prometheus-cpp registry), exposed on
// GET /metrics. Names start with `calloutd_`. Thread-safe.
#pragma once

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

class Metrics {
 public:
  Metrics();

  // One webhook request: `receiver` ("alertmanager"), `outcome` ("accepted",
  // "bad_request", "unauthorized", "too_large", "overloaded", "error").
  void count_request(const std::string& receiver, const std::string& outcome);
  // One applied event, by engine outcome ("opened", "unchanged", ...).
  void count_event(const std::string& outcome);
  void count_commit();
  void observe_webhook_to_commit(double seconds);
  void set_journal_pending(double count);
  // Replaces the open-incident counts; label sets no longer open drop to 0.
  void set_open_incidents(
      const std::map<std::pair<std::string, std::string>, int>& by_severity_technology);

  // The text exposition format.
  std::string serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> m_registry;
  prometheus::Family<prometheus::Counter>& m_requests;
  prometheus::Family<prometheus::Counter>& m_events;
  prometheus::Counter& m_commits;
  prometheus::Histogram& m_webhook_to_commit;
  prometheus::Gauge& m_journal_pending;
  prometheus::Family<prometheus::Gauge>& m_open;
  std::mutex m_open_mutex;
  std::vector<prometheus::Gauge*> m_open_gauges;
};

}  // namespace calloutd
