#include "receivers/api.hpp"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "daemon/text/slug.hpp"
#include "daemon/text/untrusted_text.hpp"

namespace calloutd::receivers {
namespace {

using nlohmann::json;

// Input quoted back in an error: enough to recognise it, never the whole of it.
std::string quote_excerpt(const std::string& value) {
  return "\"" + excerpt(value, 40) + "\"";
}

// The journal keeps times to the millisecond, in UTC, from 1971 on: a
// payload holds what a replay of its record will hold, or nothing when the
// time cannot be journaled.
std::optional<TimePoint> journal_time(TimePoint t) {
  auto millis = std::chrono::floor<std::chrono::milliseconds>(t);
  if (parse_rfc3339(format_rfc3339_millis(millis)) != millis) {
    return std::nullopt;
  }
  return millis;
}

// A string field of a request body, or "" (absent or not a string).
std::string field(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : "";
}

json object_of(std::string_view body) {
  auto parsed = json::parse(body, nullptr, false);
  return parsed.is_object() ? parsed : json();
}

// The rules a role change holds to, as a body and as a record.
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

// The rules a callout opened by hand holds to, after its technology.
std::string manual_problem(const ManualIncident& m) {
  if (kebab_slug(m.issue, "").empty()) {
    return "issue: missing (what is wrong, e.g. \"replication lag\")";
  }
  if (m.severity != "MPI" && m.severity != "HPI") {
    return "severity " + quote_excerpt(m.severity) + " is not MPI or HPI";
  }
  if (m.summary.empty()) {
    return "summary: missing";
  }
  return "";
}

// A note as a resolution keeps it: one line, nothing hidden.
std::string one_line(const std::string& note) {
  return collapse_whitespace(without_hidden_controls(note));
}

// A resolution's note is one line the timeline can hold.
std::string note_problem(const std::string& note) {
  if (note.size() > k_max_note_bytes) {
    return "note: longer than " + std::to_string(k_max_note_bytes) + " bytes (" +
           std::to_string(note.size()) + "); the postmortem is the place for more";
  }
  return "";
}

// A record's fields are strings and all present: each read into its target.
std::string read_strings(const json& record,
                         std::initializer_list<std::pair<const char*, std::string*>> fields) {
  for (const auto& [name, target] : fields) {
    auto it = record.find(name);
    if (it == record.end() || !it->is_string()) {
      return std::string(name) + ": missing or not a string";
    }
    *target = it->get<std::string>();
  }
  return "";
}

// A record's "at", as the journal writes times (2026-11-22T03:45:52.038Z).
Result<TimePoint> record_time(const json& record) {
  auto it = record.find("at");
  auto text = it != record.end() && it->is_string() ? it->get<std::string>() : "";
  auto at = parse_rfc3339(text);
  if (!at || *at == TimePoint{} || format_rfc3339_millis(*at) != text) {
    return Error{"at: " + quote_excerpt(text) +
                 " is not an RFC 3339 time in UTC to the millisecond"};
  }
  return *at;
}

Result<Payload> role_from_record(const json& record) {
  RoleRequest r;
  if (auto problem = read_strings(record, {{"incident_id", &r.incident_id},
                                           {"action", &r.action},
                                           {"role", &r.role},
                                           {"person", &r.person},
                                           {"to", &r.to}});
      !problem.empty()) {
    return Error{problem};
  }
  if (record.contains("at")) {
    auto at = record_time(record);
    if (!at) {
      return Error{at.error()};
    }
    r.at = *at;
  }
  if (auto problem = role_problem(r); !problem.empty()) {
    return Error{problem};
  }
  return Payload(std::move(r));
}

Result<Payload> incident_from_record(const json& record) {
  ManualIncident m;
  if (auto problem = read_strings(record, {{"technology", &m.technology},
                                           {"issue", &m.issue},
                                           {"severity", &m.severity},
                                           {"summary", &m.summary}});
      !problem.empty()) {
    return Error{problem};
  }
  auto at = record_time(record);
  if (!at) {
    return Error{at.error()};
  }
  m.at = *at;
  // The technology names a folder: only what the body's slug can be.
  if (m.technology != technology_slug(m.technology)) {
    return Error{"technology " + quote_excerpt(m.technology) + " is not a slug"};
  }
  if (auto problem = manual_problem(m); !problem.empty()) {
    return Error{problem};
  }
  return Payload(std::move(m));
}

Result<Payload> postmortem_from_record(const json& record) {
  PostmortemStatusChange c;
  if (auto problem = read_strings(record, {{"incident_id", &c.incident_id}, {"status", &c.status}});
      !problem.empty()) {
    return Error{problem};
  }
  return Payload(std::move(c));
}

Result<Payload> resolve_from_record(const json& record) {
  ResolveRequest r;
  if (auto problem = read_strings(record, {{"incident_id", &r.incident_id}, {"note", &r.note}});
      !problem.empty()) {
    return Error{problem};
  }
  if (auto problem = note_problem(r.note); !problem.empty()) {
    return Error{problem};
  }
  if (r.note != one_line(r.note)) {
    return Error{"note: not one line of visible text, as a body's note is kept"};
  }
  return Payload(std::move(r));
}

Result<Payload> ack_from_record(const json& record) {
  AckRequest a;
  if (auto problem = read_strings(record, {{"incident_id", &a.incident_id}, {"person", &a.person}});
      !problem.empty()) {
    return Error{problem};
  }
  if (a.person != normalise_person_name(a.person)) {
    return Error{"person: not a name in the form a body's person is kept"};
  }
  return Payload(std::move(a));
}

// A body that may be empty (curl -X POST with no data): {} then.
json optional_object(std::string_view body) {
  return body.find_first_not_of(" \t\r\n") == std::string_view::npos ? json::object()
                                                                     : object_of(body);
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
    auto parsed = parse_rfc3339(at);
    r.at =
        parsed && *parsed != TimePoint{} && *parsed <= now ? journal_time(*parsed) : std::nullopt;
    if (!r.at) {
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
  if (field(j, "technology").empty()) {
    return Error{"technology: missing (a slug such as mysql)"};
  }
  ManualIncident m{technology_slug(field(j, "technology")), field(j, "issue"), field(j, "severity"),
                   field(j, "summary"), std::chrono::floor<std::chrono::milliseconds>(now)};
  if (auto problem = manual_problem(m); !problem.empty()) {
    return Error{problem};
  }
  return m;
}

Result<PostmortemStatusChange> parse_postmortem_status(std::string_view body,
                                                       const std::string& incident_id) {
  auto j = object_of(body);
  if (j.is_null() || !j.contains("status") || !j["status"].is_string()) {
    return Error{"expected a JSON object {\"status\": \"draft\" | \"in review\" | \"published\"}"};
  }
  return PostmortemStatusChange{incident_id, j["status"].get<std::string>()};
}

Result<ResolveRequest> parse_resolve_request(std::string_view body,
                                             const std::string& incident_id) {
  auto j = optional_object(body);
  if (j.is_null() || (j.contains("note") && !j["note"].is_string())) {
    return Error{"expected a JSON object {\"note\": \"...\"} (the note is optional)"};
  }
  ResolveRequest r{incident_id, one_line(field(j, "note"))};
  if (auto problem = note_problem(r.note); !problem.empty()) {
    return Error{problem};
  }
  return r;
}

Result<AckRequest> parse_ack_request(std::string_view body, const std::string& incident_id) {
  auto j = optional_object(body);
  if (j.is_null() || (j.contains("person") && !j["person"].is_string())) {
    return Error{"expected a JSON object {\"person\": \"...\"} (the person is optional)"};
  }
  return AckRequest{incident_id, normalise_person_name(field(j, "person"))};
}

std::string api_record(const RoleRequest& r) {
  json record{{"kind", "roles"}, {"incident_id", r.incident_id}, {"action", r.action},
              {"role", r.role},  {"person", r.person},           {"to", r.to}};
  if (r.at) {
    record["at"] = format_rfc3339_millis(*r.at);
  }
  return record.dump();
}

std::string api_record(const ManualIncident& m) {
  json record{{"kind", "incident"},   {"technology", m.technology},
              {"issue", m.issue},     {"severity", m.severity},
              {"summary", m.summary}, {"at", format_rfc3339_millis(m.at)}};
  return record.dump();
}

std::string api_record(const PostmortemStatusChange& c) {
  json record{{"kind", "postmortem"}, {"incident_id", c.incident_id}, {"status", c.status}};
  return record.dump();
}

std::string api_record(const ResolveRequest& r) {
  return json{{"kind", "resolve"}, {"incident_id", r.incident_id}, {"note", r.note}}.dump();
}

std::string api_record(const AckRequest& a) {
  return json{{"kind", "ack"}, {"incident_id", a.incident_id}, {"person", a.person}}.dump();
}

Result<Payload> parse_api_record(std::string_view text) {
  auto record = json::parse(text, nullptr, false);
  if (record.is_discarded() || !record.is_object()) {
    return Error{"not a JSON object"};
  }
  auto kind = record.find("kind");
  if (kind == record.end() || *kind == "postmortem") {
    return postmortem_from_record(record);
  }
  if (*kind == "roles") {
    return role_from_record(record);
  }
  if (*kind == "incident") {
    return incident_from_record(record);
  }
  if (*kind == "resolve") {
    return resolve_from_record(record);
  }
  if (*kind == "ack") {
    return ack_from_record(record);
  }
  return Error{
      "kind: " + quote_excerpt(kind->is_string() ? kind->get<std::string>() : kind->dump()) +
      " is not one of roles, incident, postmortem, resolve, ack"};
}

}  // namespace calloutd::receivers
