// The process metrics Prometheus client libraries export (process_*), read
// at each scrape from /proc/self and getrlimit. Never /proc/stat: the
// hardened unit's ProcSubset=pid hides it. A value that cannot be read is
// left out rather than shown as 0.
#pragma once

#include <vector>

#include <prometheus/metric_family.h>

namespace calloutd {

// The process_* families now; `start_time_seconds` is when the process
// started (Unix time), as its own clock read it.
std::vector<prometheus::MetricFamily> process_metrics(double start_time_seconds);

}  // namespace calloutd
