// Slugs for folder names in the callouts repository. The output only ever holds
// `[a-z0-9-]`, never starts or ends with `-`, and is never empty, so nothing
// from a label can leave the repository or create hidden or nested folders.
#pragma once

#include <string>
#include <string_view>

namespace calloutd {

// `HighReplicationLag` -> `high-replication-lag`; `ICMP ping failed` ->
// `icmp-ping-failed`; `../etc` -> `etc`. Returns `fallback` when nothing is left.
std::string kebab_slug(std::string_view text, std::string_view fallback = "unknown");

// Lower-case slug for a technology (`MySQL` -> `mysql`, `kube state` -> `kube-state`).
std::string technology_slug(std::string_view text);

}  // namespace calloutd
