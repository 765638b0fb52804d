#include "daemon/state/group_state.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "daemon/base/hash.hpp"
#include "daemon/text/url_redact.hpp"

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

// "applied_events": {id: time}; before it, "events": [id...] without times.
void read_applied_events(const json& pd, std::map<std::string, TimePoint>& out) {
  if (auto it = pd.find("applied_events"); it != pd.end()) {
    for (const auto& [id, at] : it->items()) {
      auto t = parse_rfc3339(at.get<std::string>());
      out[id] = t ? *t : TimePoint{};
    }
    return;
  }
  for (const auto& id : pd.value("events", std::vector<std::string>{})) {
    out[id] = TimePoint{};
  }
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
  // The hash part: after the source's prefix (pd-, man-); hex in every id
  // calloutd makes. Anything else still gets a stable shard.
  auto hash = id.substr(id.rfind('-') + 1);
  auto shard = hash.size() >= 2 && std::isxdigit(static_cast<unsigned char>(hash[0])) != 0 &&
                       std::isxdigit(static_cast<unsigned char>(hash[1])) != 0
                   ? hash.substr(0, 2)
                   : sha256_hex(id).substr(0, 2);
  return std::string(k_state_dir) + "/" + shard + "/" + id + ".json";
}

std::string flat_state_path(const std::string& id) {
  return std::string(k_state_dir) + "/" + id + ".json";
}

std::optional<std::string> state_id_of_path(const std::string& path) {
  const std::string prefix = std::string(k_state_dir) + "/";
  if (!path.starts_with(prefix) || !path.ends_with(".json")) {
    return std::nullopt;
  }
  auto rest = path.substr(prefix.size(), path.size() - prefix.size() - 5);
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    rest = rest.substr(slash + 1);  // a shard's file: its path must be the id's own
  }
  if (rest.empty() || rest.find('/') != std::string::npos ||
      (slash != std::string::npos && state_path(rest) != path)) {
    return std::nullopt;
  }
  return rest;
}

bool prunable(const GroupState& s, TimePoint now, std::chrono::seconds keep) {
  return s.resolved && s.resolved_at != TimePoint{} && now - s.resolved_at > keep;
}

std::optional<std::chrono::seconds> prune_retention(std::chrono::seconds reopen_window,
                                                    std::optional<std::chrono::seconds> retention) {
  if (!retention) {
    return std::nullopt;
  }
  return std::max({reopen_window, std::chrono::seconds(k_pagerduty_redelivery), *retention});
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
            {"acknowledged_at", time_text(s.acknowledged_at)},
            {"truncated_alerts", s.truncated_alerts},
            {"dashboard_url", s.dashboard_url},
            {"postmortem_status", s.postmortem_status},
            {"last_handover", time_text(s.last_handover)},
            {"alerts", alerts},
            {"dedup_keys", s.dedup_keys},
            {"joined_groups", s.joined_groups}};
  json roles = json::object();
  for (const auto& [role, holder] : s.roles) {
    roles[role] = {{"person", holder.first}, {"since", time_text(holder.second)}};
  }
  j["roles"] = roles;
  if (!s.observed.empty()) {
    j["observed"] = s.observed;
  }
  if (!s.pd_incident.empty()) {
    json applied = json::object();
    for (const auto& [id, at] : s.pd_events) {
      applied[id] = time_text(at);
    }
    json log = json::array();
    for (const auto& [t, what] : s.pd_role_log) {
      log.push_back({{"at", time_text(t)}, {"what", what}});
    }
    j["pagerduty"] = {{"incident", s.pd_incident},
                      {"number", s.pd_number},
                      {"url", s.pd_url},
                      {"assignees", s.pd_assignees},
                      {"applied_events", applied},
                      {"status_at", time_text(s.pd_status_at)},
                      {"role_log", log}};
  }
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
    s.acknowledged_at = time_value(j, "acknowledged_at");
    s.truncated_alerts = j.value("truncated_alerts", std::int64_t{0});
    // Redacted again on reading: files of earlier versions kept URLs whole.
    s.dashboard_url = redact_url_credentials(j.value("dashboard_url", std::string{}));
    s.postmortem_status = j.value("postmortem_status", std::string{"draft"});
    s.last_handover = time_value(j, "last_handover");
    const json roles = j.value("roles", json::object());
    for (const auto& [role, holder] : roles.items()) {
      s.roles[role] = {holder.value("person", std::string{}), time_value(holder, "since")};
    }
    for (const auto& [fp, a] : j.at("alerts").items()) {
      s.alerts[fp] = AlertRecord{time_value(a, "startsAt"), time_value(a, "endsAt"),
                                 a.value("resolved", false)};
    }
    s.dedup_keys = j.value("dedup_keys", std::set<std::string>{});
    s.joined_groups = j.value("joined_groups", std::set<std::string>{});
    s.observed = j.value("observed", std::map<std::string, std::string>{});
    if (j.contains("pagerduty")) {
      const json& pd = j["pagerduty"];
      s.pd_incident = pd.value("incident", std::string{});
      s.pd_number = pd.value("number", std::int64_t{0});
      s.pd_url = redact_url_credentials(pd.value("url", std::string{}));
      s.pd_assignees = pd.value("assignees", std::vector<std::string>{});
      read_applied_events(pd, s.pd_events);
      s.pd_status_at = time_value(pd, "status_at");
      for (const auto& entry : pd.value("role_log", json::array())) {
        s.pd_role_log.emplace_back(time_value(entry, "at"), entry.value("what", std::string{}));
      }
    }
    return s;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace calloutd
