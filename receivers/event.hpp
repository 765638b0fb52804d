// Event: what a receiver makes of a verified webhook, and all the engine needs.
// Plain data; no I/O. Shared by every receiver, hence in namespace calloutd.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/timefmt.hpp"

namespace calloutd {

using Labels = std::map<std::string, std::string>;

enum class AlertStatus { firing, resolved };

struct Alert {
  AlertStatus status = AlertStatus::firing;
  Labels labels;
  Labels annotations;
  TimePoint starts_at{};
  TimePoint ends_at{};  // epoch when unknown (Go's zero time)
  std::string generator_url;
  std::string fingerprint;  // Alertmanager's, or derived from the labels when absent
};

// One Alertmanager webhook notification (payload version 4).
struct AlertGroup {
  std::string receiver;
  AlertStatus status = AlertStatus::firing;
  std::vector<Alert> alerts;
  Labels group_labels;
  Labels common_labels;
  Labels common_annotations;
  std::string external_url;
  std::string group_key;  // as sent; informational only (HA peers may format it differently)
  std::int64_t truncated_alerts = 0;
};

struct Event {
  std::uint64_t sequence = 0;  // journal sequence number
  TimePoint received_at{};     // when the webhook arrived (journaled, so replay is deterministic)
  AlertGroup group;
};

}  // namespace calloutd
