#include "receivers/observation.hpp"

#include <nlohmann/json.hpp>

namespace calloutd::receivers {
namespace {

bool is_known(const std::string& file, const std::string& key) {
  return (file == "callout.md" && (key == "Status" || key == "Severity" || key == "Team roles")) ||
         (file == "postmortem.md" && key == "Status");
}

}  // namespace

std::string observation_record(const FileObservation& o) {
  nlohmann::json j{{"folder", o.folder},
                   {"file", o.file},
                   {"key", o.key},
                   {"value", o.value},
                   {"roles", o.roles},
                   {"commit", o.commit},
                   {"committed_at", format_rfc3339_millis(o.committed_at)}};
  return j.dump();
}

Result<FileObservation> parse_observation(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error{"not a JSON object"};
  }
  FileObservation o;
  for (auto [name, field] :
       {std::pair{"folder", &o.folder}, std::pair{"file", &o.file}, std::pair{"key", &o.key},
        std::pair{"value", &o.value}, std::pair{"commit", &o.commit}}) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      return Error{std::string(name) + ": missing or not a string"};
    }
    *field = it->get<std::string>();
  }
  if (o.folder.empty() || o.commit.empty()) {
    return Error{o.folder.empty() ? "folder: empty" : "commit: empty"};
  }
  if (!is_known(o.file, o.key)) {
    return Error{"key: \"" + o.file + " " + o.key + "\" is not a value calloutd observes"};
  }
  auto roles = j.find("roles");
  if (roles != j.end()) {
    if (!roles->is_object()) {
      return Error{"roles: not an object"};
    }
    for (const auto& [role, holder] : roles->items()) {
      if (!holder.is_string()) {
        return Error{"roles." + role + ": not a string"};
      }
      o.roles[role] = holder.get<std::string>();
    }
  }
  auto time = j.find("committed_at");
  auto at =
      time != j.end() && time->is_string() ? parse_rfc3339(time->get<std::string>()) : std::nullopt;
  if (!at) {
    return Error{"committed_at: not an RFC 3339 time"};
  }
  o.committed_at = *at;
  return o;
}

}  // namespace calloutd::receivers
