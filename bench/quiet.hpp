// The quiet path: one notification at a time, each sent only after the
// previous one's commit, as a single Alertmanager sends on a calm day. What
// it measures is the latency of one event through the whole write path
// (HTTP, journal, engine, commit), not throughput.
#pragma once

#include <vector>

#include "support.hpp"

namespace calloutd::bench {

// `n` new alert groups to each target, the targets taking turns
// notification by notification: webhook -> 2xx and webhook -> commit (seen
// as the branch's ref file being replaced, inotify) p50/p99, and the share
// of commits within 10 ms. One row per target, in `targets`' order.
std::vector<json> quiet(const std::vector<Target>& targets, const json& sample,
                        const fs::path& work, int n);

}  // namespace calloutd::bench
