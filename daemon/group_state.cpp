#include "daemon/group_state.hpp"

#include <nlohmann/json.hpp>

#include "daemon/hash.hpp"

namespace calloutd {
namespace {

using nlohmann::json;

std::string time_text(TimePoint t) {
  return t == TimePoint{} ? "" : format_rfc3339_millis(t);
}

TimePoint time_value(const json& j, const char* key) {
  auto s = j.value(key, std::string{});
  auto t = s.empty() ? std::nullopt : parse_rfc3339(s);
  return t ? *t : TimePoint{};
}

}  // namespace

std::string group_id(const AlertGroup& group) {
  std::string canonical = group.receiver;
  canonical += '\0';
  for (const auto& [k, v] : group.group_labels) {
    canonical += k;
    canonical += '\xff';
    canonical += v;
    canonical += '\0';
  }
  return sha256_hex(canonical).substr(0, 16);
}

std::string state_path(const std::string& id) {
  return std::string(k_state_dir) + "/" + id + ".json";
}

std::string serialize_state(const GroupState& s) {
  json alerts = json::object();
  for (const auto& [fp, a] : s.alerts) {
    alerts[fp] = {{"startsAt", time_text(a.starts_at)},
                  {"endsAt", time_text(a.ends_at)},
                  {"resolved", a.resolved}};
  }
  json j = {{"version", 1},
            {"group_id", s.group_id},
            {"incident_id", s.incident_id},
            {"folder", s.folder},
            {"technology", s.technology},
            {"issue", s.issue},
            {"severity", severity_name(s.severity)},
            {"resolved", s.resolved},
            {"opened_at", time_text(s.opened_at)},
            {"resolved_at", time_text(s.resolved_at)},
            {"truncated_alerts", s.truncated_alerts},
            {"alerts", alerts}};
  return j.dump(2) + "\n";
}

std::optional<GroupState> parse_state(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != 1) {
    return std::nullopt;
  }
  try {
    GroupState s;
    s.group_id = j.at("group_id").get<std::string>();
    s.incident_id = j.at("incident_id").get<std::string>();
    s.folder = j.at("folder").get<std::string>();
    s.technology = j.value("technology", std::string{});
    s.issue = j.value("issue", std::string{});
    s.severity = j.value("severity", std::string{"HPI"}) == "MPI" ? Severity::mpi : Severity::hpi;
    s.resolved = j.value("resolved", false);
    s.opened_at = time_value(j, "opened_at");
    s.resolved_at = time_value(j, "resolved_at");
    s.truncated_alerts = j.value("truncated_alerts", std::int64_t{0});
    for (const auto& [fp, a] : j.at("alerts").items()) {
      s.alerts[fp] = AlertRecord{time_value(a, "startsAt"), time_value(a, "endsAt"),
                                 a.value("resolved", false)};
    }
    return s;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace calloutd
