// The one table a run ends with: every figure of the issue #28 table for
// each daemon measured, their ratio (new/old) when there are two, and the
// ceilings measured in the same run. Printed as markdown, so that it can be
// pasted into docs/performance.md or a closing note as it is.
#pragma once

#include <vector>

#include "support.hpp"

namespace calloutd::bench {

// `runs`: one object per target ({"label", "refire", "quiet", "storm",
// "remote", "scale"}), the old one first when there are two; `ceiling`: the
// ceiling phase's rows. Prints the table; returns it as JSON rows.
json print_summary(const std::vector<json>& runs, const json& ceiling);

}  // namespace calloutd::bench
