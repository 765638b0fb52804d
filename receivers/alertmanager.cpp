#include "receivers/alertmanager.hpp"

#include <nlohmann/json.hpp>

#include "daemon/base/hash.hpp"
#include "daemon/text/untrusted_text.hpp"

namespace calloutd::receivers {
namespace {

using nlohmann::json;

Result<Labels> string_map(const json& parent, const char* key, const std::string& where,
                          bool required) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) {
    if (required) {
      return Error{where + key + ": missing"};
    }
    return Labels{};
  }
  if (!it->is_object()) {
    return Error{where + key + ": expected an object of strings"};
  }
  Labels out;
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return Error{where + key + "." + excerpt(name) + ": expected a string"};
    }
    out.emplace(name, value.get<std::string>());
  }
  return out;
}

Result<std::string> string_field(const json& parent, const char* key, const std::string& where,
                                 bool required) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) {
    if (required) {
      return Error{where + key + ": missing"};
    }
    return std::string{};
  }
  if (!it->is_string()) {
    return Error{where + key + ": expected a string"};
  }
  return it->get<std::string>();
}

Result<AlertStatus> status_field(const json& parent, const std::string& where) {
  auto s = string_field(parent, "status", where, true);
  if (!s) {
    return Error{s.error()};
  }
  if (*s == "firing") {
    return AlertStatus::firing;
  }
  if (*s == "resolved") {
    return AlertStatus::resolved;
  }
  return Error{where + "status: \"" + excerpt(*s) + "\" is neither \"firing\" nor \"resolved\""};
}

Result<TimePoint> time_field(const json& parent, const char* key, const std::string& where,
                             bool required) {
  auto s = string_field(parent, key, where, required);
  if (!s) {
    return Error{s.error()};
  }
  if (s->empty()) {
    return TimePoint{};
  }
  auto t = parse_rfc3339(*s);
  if (!t) {
    return Error{where + key + ": \"" + excerpt(*s) + "\" is not an RFC 3339 time"};
  }
  return *t;
}

// The first error among `results`, in order; nullptr when all hold a value.
template <typename... R>
const std::string* first_error(const R&... results) {
  const std::string* found = nullptr;
  ((found = (found != nullptr || results) ? found : &results.error()), ...);
  return found;
}

Result<Alert> parse_alert(const json& j, const std::string& where) {
  if (!j.is_object()) {
    return Error{where.substr(0, where.size() - 1) + ": expected an object"};
  }
  Alert alert;
  auto status = status_field(j, where);
  auto labels = string_map(j, "labels", where, true);
  auto annotations = string_map(j, "annotations", where, false);
  auto starts = time_field(j, "startsAt", where, true);
  auto ends = time_field(j, "endsAt", where, false);
  auto generator = string_field(j, "generatorURL", where, false);
  auto fingerprint = string_field(j, "fingerprint", where, false);
  if (const auto* e =
          first_error(status, labels, annotations, starts, ends, generator, fingerprint)) {
    return Error{*e};
  }
  if (labels->empty()) {
    return Error{where + "labels: an alert needs at least one label"};
  }
  alert.status = *status;
  alert.labels = std::move(*labels);
  alert.annotations = std::move(*annotations);
  alert.starts_at = *starts;
  alert.ends_at = *ends;
  alert.generator_url = std::move(*generator);
  alert.fingerprint = fingerprint->empty() ? labels_fingerprint(alert.labels) : *fingerprint;
  return alert;
}

// `alerts`: a non-empty array of alerts, each parsed in turn.
Result<std::vector<Alert>> parse_alerts(const json& j) {
  auto alerts = j.find("alerts");
  if (alerts == j.end() || !alerts->is_array()) {
    return Error{"alerts: missing or not an array"};
  }
  if (alerts->empty()) {
    return Error{"alerts: empty (a notification carries at least one alert)"};
  }
  std::vector<Alert> out;
  for (std::size_t i = 0; i < alerts->size(); ++i) {
    auto alert = parse_alert((*alerts)[i], "alerts[" + std::to_string(i) + "].");
    if (!alert) {
      return Error{alert.error()};
    }
    out.push_back(std::move(*alert));
  }
  return out;
}

// `truncatedAlerts`: how many alerts Alertmanager left out (0 when absent).
Result<std::int64_t> truncated_alerts(const json& j) {
  auto truncated = j.find("truncatedAlerts");
  if (truncated == j.end() || truncated->is_null()) {
    return std::int64_t{0};
  }
  if (!truncated->is_number_integer() || truncated->get<std::int64_t>() < 0) {
    return Error{"truncatedAlerts: expected a non-negative integer"};
  }
  return truncated->get<std::int64_t>();
}

}  // namespace

std::string labels_fingerprint(const Labels& labels) {
  std::string canonical;
  for (const auto& [k, v] : labels) {
    canonical += k;
    canonical += '\xff';
    canonical += v;
    canonical += '\xff';
  }
  return sha256_hex(canonical).substr(0, 16);
}

Result<AlertGroup> parse_alertmanager(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error{"body is not valid JSON"};
  }
  if (!j.is_object()) {
    return Error{"body is not a JSON object"};
  }
  auto version = string_field(j, "version", "", true);
  if (!version) {
    return Error{version.error() + " (not an Alertmanager webhook message?)"};
  }
  if (*version != "4") {
    return Error{"version: \"" + excerpt(*version) + "\" is not supported (expected \"4\")"};
  }
  AlertGroup group;
  auto receiver = string_field(j, "receiver", "", true);
  auto status = status_field(j, "");
  auto group_labels = string_map(j, "groupLabels", "", true);
  auto common_labels = string_map(j, "commonLabels", "", false);
  auto common_annotations = string_map(j, "commonAnnotations", "", false);
  auto external_url = string_field(j, "externalURL", "", false);
  auto group_key = string_field(j, "groupKey", "", false);
  if (const auto* e = first_error(receiver, status, group_labels, common_labels, common_annotations,
                                  external_url, group_key)) {
    return Error{*e};
  }
  auto alerts = parse_alerts(j);
  if (!alerts) {
    return Error{alerts.error()};
  }
  auto truncated = truncated_alerts(j);
  if (!truncated) {
    return Error{truncated.error()};
  }
  group.alerts = std::move(*alerts);
  group.truncated_alerts = *truncated;
  group.receiver = std::move(*receiver);
  group.status = *status;
  group.group_labels = std::move(*group_labels);
  group.common_labels = std::move(*common_labels);
  group.common_annotations = std::move(*common_annotations);
  group.external_url = std::move(*external_url);
  group.group_key = std::move(*group_key);
  return group;
}

std::string content_key(const AlertGroup& g) {
  auto status = [](AlertStatus st) { return st == AlertStatus::firing ? "firing" : "resolved"; };
  auto millis = [](TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  nlohmann::json alerts = nlohmann::json::array();
  for (const auto& a : g.alerts) {
    alerts.push_back({status(a.status), a.labels, a.annotations, millis(a.starts_at),
                      millis(a.ends_at), a.generator_url, a.fingerprint});
  }
  nlohmann::json key{g.receiver,      status(g.status),     alerts,      g.group_labels,
                     g.common_labels, g.common_annotations, g.group_key, g.truncated_alerts};
  return sha256_hex(key.dump());
}

}  // namespace calloutd::receivers
