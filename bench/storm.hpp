// The write path under load, one daemon at a time: a storm of new alert
// groups from many connections, and the same storm with the repository
// pushed to a remote (by one daemon, or by an HA pair sharing it).
#pragma once

#include "support.hpp"

namespace calloutd::bench {

// `n` new alert groups posted from `concurrency` connections to a daemon
// started in work/storm-<n>-<label>; accepted/s, 2xx and commit latency,
// callouts and commits per second until every group is committed, RSS, and
// the clone's size. Prints as it goes.
json storm(const Target& target, const json& sample, const fs::path& work, int n, int concurrency);

// `n` new alert groups to `daemons` daemons (1, or 2: an HA pair) that push
// to one bare repository on disk; how long until every callout is on it.
json remote_storm(const Target& target, const json& sample, const fs::path& work, int n,
                  int daemons);

}  // namespace calloutd::bench
