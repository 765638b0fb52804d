#include "daemon/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>

namespace calloutd {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

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
      m_webhook_to_commit(
          BuildHistogram()
              .Name("calloutd_webhook_to_commit_seconds")
              .Help("Time from a webhook's arrival to the commit that records it.")
              .Register(*m_registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                               0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                               5, 10})),
      m_journal_pending(BuildGauge()
                            .Name("calloutd_journal_pending_events")
                            .Help("Events journaled and acknowledged but not yet applied.")
                            .Register(*m_registry)
                            .Add({})),
      m_open(BuildGauge()
                 .Name("calloutd_incidents_open")
                 .Help("Open (active) incidents by severity and technology.")
                 .Register(*m_registry)) {
  for (const char* r : {"alertmanager"}) {
    for (const char* o :
         {"accepted", "bad_request", "unauthorized", "too_large", "overloaded", "error"}) {
      m_requests.Add({{"receiver", r}, {"outcome", o}});
    }
  }
  for (const char* o : {"opened", "reopened", "updated", "unchanged", "ignored", "failed"}) {
    m_events.Add({{"outcome", o}});
  }
}

void Metrics::count_request(const std::string& receiver, const std::string& outcome) {
  m_requests.Add({{"receiver", receiver}, {"outcome", outcome}}).Increment();
}

void Metrics::count_event(const std::string& outcome) {
  m_events.Add({{"outcome", outcome}}).Increment();
}

void Metrics::count_commit() {
  m_commits.Increment();
}

void Metrics::observe_webhook_to_commit(double seconds) {
  m_webhook_to_commit.Observe(seconds);
}

void Metrics::set_journal_pending(double count) {
  m_journal_pending.Set(count);
}

void Metrics::set_open_incidents(const std::map<std::pair<std::string, std::string>, int>& counts) {
  std::lock_guard lock(m_open_mutex);
  for (auto* g : m_open_gauges) {
    g->Set(0);
  }
  for (const auto& [key, n] : counts) {
    auto& g = m_open.Add({{"severity", key.first}, {"technology", key.second}});
    g.Set(n);
    if (std::find(m_open_gauges.begin(), m_open_gauges.end(), &g) == m_open_gauges.end()) {
      m_open_gauges.push_back(&g);
    }
  }
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(m_registry->Collect());
}

}  // namespace calloutd
