// What bounds the daemon, measured in the same run: two-file commits made
// directly (libgit2, the git command line); and how the daemon scales with
// the size of the repository it starts on (cold start, /metrics).
#pragma once

#include <vector>

#include "support.hpp"

namespace calloutd::bench {

// `counts` runs of that many two-file commits (`callout`, `postmortem`),
// each with libgit2 and with git; commits per second. Prints as it goes.
json ceiling(const fs::path& work, const std::vector<int>& counts, const std::string& callout,
             const std::string& postmortem);

// For each target in turn, a daemon started on a repository of `folders`
// resolved incidents (made once, copied for each): seconds until ready,
// /metrics p50 and its size, RSS. One row per target, in `targets`' order.
std::vector<json> scale(const std::vector<Target>& targets, const fs::path& work, int folders,
                        const std::string& callout, int row);

}  // namespace calloutd::bench
