// The soak: calloutd under a steady mixed load for some minutes (issue #17's
// load: 5 new alert groups a second, 50 re-fires a second, a resolution every
// 0.4 s, a /metrics scrape a second; no remote), everything on 127.0.0.1.
// Every minute it prints and writes (to `out`, JSON) how many callouts there
// are, how big the clone's .git is, its loose objects and packs, the daemon's
// RSS and the requests' outcomes, so that two builds can be compared.
#pragma once

#include <string>

#include "support.hpp"

namespace calloutd::bench {

struct SoakOptions {
  std::string calloutd;          // the daemon's binary
  double minutes = 5;            // how long the load runs
  std::string repository_extra;  // a YAML line under `repository:` (DaemonOptions)
  std::string out;               // the JSON file rewritten every minute
};

// Runs the soak in `work`; 0 when every request was answered 2xx, else 1.
int run_soak(const SoakOptions& options, const json& sample, const fs::path& work);

}  // namespace calloutd::bench
