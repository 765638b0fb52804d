#include "daemon/http/api_requests.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "daemon/text/slug.hpp"
#include "daemon/text/untrusted_text.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd {
namespace {

using nlohmann::json;

// Input quoted back in an error: enough to recognise it, never the whole of it.
std::string quote_excerpt(const std::string& value) {
  return "\"" + excerpt(value, 40) + "\"";
}

// A string field of a JSON object, or "" (absent or not a string).
std::string field(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : "";
}

json object_of(std::string_view body) {
  auto parsed = json::parse(body, nullptr, false);
  return parsed.is_object() ? parsed : json();
}

std::string role_problem(const RoleRequest& r) {
  if (r.action != "join" && r.action != "leave" && r.action != "handover") {
    return "action " + quote_excerpt(r.action) + " is not one of join, leave, handover";
  }
  if (std::find(std::begin(k_team_roles), std::end(k_team_roles), r.role) ==
      std::end(k_team_roles)) {
    return "role " + quote_excerpt(r.role) +
           " is not one of Incident Lead, Operations, Secondary, Planning, Communications, "
           "Manager";
  }
  if (r.person.empty()) {
    return "person: missing";
  }
  if (r.action == "handover" && r.to.empty()) {
    return "to: missing (who takes over)";
  }
  return "";
}

}  // namespace

Result<RoleRequest> parse_role_request(std::string_view body, const std::string& incident_id,
                                       TimePoint now) {
  auto j = object_of(body);
  if (j.is_null()) {
    return Error{"expected a JSON object {\"action\", \"role\", \"person\", \"to\"}"};
  }
  RoleRequest r{incident_id,        field(j, "action"), field(j, "role"),
                field(j, "person"), field(j, "to"),     std::nullopt};
  if (r.role == "Incident Lead") {
    r.role = "Current Incident Lead";  // the template's label
  }
  if (auto at = field(j, "at"); !at.empty()) {
    r.at = parse_rfc3339(at);
    if (!r.at || *r.at == TimePoint{} || *r.at > now) {
      return Error{"at: " + quote_excerpt(at) + " is not an RFC 3339 time in the past"};
    }
  }
  if (auto problem = role_problem(r); !problem.empty()) {
    return Error{problem};
  }
  return r;
}

Result<ManualIncident> parse_manual_incident(std::string_view body, TimePoint now) {
  auto j = object_of(body);
  if (j.is_null()) {
    return Error{"expected a JSON object {\"technology\", \"issue\", \"severity\", \"summary\"}"};
  }
  ManualIncident m{technology_slug(field(j, "technology")), field(j, "issue"), field(j, "severity"),
                   field(j, "summary"), now};
  if (field(j, "technology").empty()) {
    return Error{"technology: missing (a slug such as mysql)"};
  }
  if (kebab_slug(m.issue, "").empty()) {
    return Error{"issue: missing (what is wrong, e.g. \"replication lag\")"};
  }
  if (m.severity != "MPI" && m.severity != "HPI") {
    return Error{"severity " + quote_excerpt(m.severity) + " is not MPI or HPI"};
  }
  if (m.summary.empty()) {
    return Error{"summary: missing"};
  }
  return m;
}

Result<std::string> parse_postmortem_status(std::string_view body) {
  auto j = object_of(body);
  auto status = field(j, "status");
  if (j.is_null() || !j.contains("status") || !j["status"].is_string()) {
    return Error{"expected a JSON object {\"status\": \"draft\" | \"in review\" | \"published\"}"};
  }
  return status;
}

}  // namespace calloutd
