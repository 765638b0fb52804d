// Inputs the in-process tests of the engine, pipeline and scanner share: the
// routes that file the samples' alerts, and sample notifications as events.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "daemon/config/config.hpp"
#include "receivers/alertmanager.hpp"
#include "receivers/event.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd::testing {

// The samples' warnings (service api) open HPI callouts under api/.
inline Config api_routes() {
  LoadedConfig loaded = parse_config(R"(
routes:
  - matchers: ['severity="warning"', 'service="api"']
    severity: HPI
    technology: api
)",
                                     "test.yml", "/");
  EXPECT_TRUE(loaded.errors.empty());
  return loaded.config;
}

// An Alertmanager body parsed; the calling test fails if it does not parse.
inline AlertGroup alert_group(const std::string& body) {
  auto g = receivers::parse_alertmanager(body);
  EXPECT_TRUE(g) << g.error();
  return g ? *g : AlertGroup{};
}

inline constexpr const char* k_firing_sample = "am-0.25-firing-two-alerts.json";

// The firing sample as journal record `seq`, received at `received` (RFC 3339).
inline Event firing_event(std::uint64_t seq, const std::string& received) {
  return Event{seq, at(received), alert_group(sample(k_firing_sample))};
}

}  // namespace calloutd::testing
