#include "receivers/pagerduty.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/base/hash.hpp"
#include "daemon/text/untrusted_text.hpp"

namespace calloutd::receivers {
namespace {

using nlohmann::json;

std::string hex(const unsigned char* data, unsigned int size) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += k_hex[data[i] >> 4];
    out += k_hex[data[i] & 0xf];
  }
  return out;
}

// A string member, "" when absent, null or not a string (PagerDuty's payloads
// vary between versions; what matters is checked by the caller).
std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) {
    return "";
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  if (it->is_number_integer()) {
    return std::to_string(it->get<std::int64_t>());
  }
  return "";
}

const json& member(const json& j, const char* key) {
  static const json k_null;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : k_null;
}

PagerDutyUser user(const json& ref) {
  if (!ref.is_object()) {
    return {};
  }
  return {str(ref, "id"), str(ref, "summary")};
}

void read_incident(const json& inc, PagerDutyEvent& e) {
  e.incident_id = str(inc, "id");
  e.incident_url = str(inc, "html_url");
  e.title = str(inc, "title");
  if (e.title.empty()) {
    e.title = str(inc, "summary");  // an incident_reference carries only a summary
  }
  if (auto n = inc.find("number"); n != inc.end() && n->is_number_integer()) {
    e.number = n->get<std::int64_t>();
  }
  e.status = str(inc, "status");
  e.urgency = str(inc, "urgency");
  e.priority = str(member(inc, "priority"), "summary");
  e.service_id = str(member(inc, "service"), "id");
  e.service_name = str(member(inc, "service"), "summary");
  e.escalation_policy = str(member(inc, "escalation_policy"), "summary");
  e.incident_key = str(inc, "incident_key");
  if (auto teams = inc.find("teams"); teams != inc.end() && teams->is_array()) {
    for (const auto& t : *teams) {
      e.teams.push_back(user(t).name);
    }
  }
  if (auto assignees = inc.find("assignees"); assignees != inc.end() && assignees->is_array()) {
    for (const auto& a : *assignees) {
      e.assignees.push_back(user(a));
    }
  }
  const json& bridge = member(inc, "conference_bridge");
  e.conference_url = str(bridge, "conference_url");
  e.conference_number = str(bridge, "conference_number");
}

}  // namespace

bool verify_pagerduty_signature(std::string_view body, std::string_view header,
                                const std::vector<std::string>& secrets) {
  std::vector<std::string> offered;
  std::stringstream ss{std::string(header)};
  std::string part;
  while (std::getline(ss, part, ',')) {
    while (!part.empty() && part.front() == ' ') {
      part.erase(part.begin());
    }
    if (part.rfind("v1=", 0) == 0) {
      offered.push_back(part.substr(3));
    }
  }
  bool ok = false;
  for (const auto& secret : secrets) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &size);
    std::string expected = hex(mac.data(), size);
    for (const auto& sig : offered) {
      // No early exit: the time taken does not tell which secret or signature matched.
      ok = constant_time_equals(sig, expected) || ok;
    }
  }
  return ok;
}

Result<PagerDutyEvent> parse_pagerduty(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error{"body is not valid JSON"};
  }
  if (!j.is_object() || !j.contains("event") || !j["event"].is_object()) {
    return Error{"event: missing (not a PagerDuty V3 webhook?)"};
  }
  const json& ev = j["event"];
  PagerDutyEvent e;
  e.id = str(ev, "id");
  e.event_type = str(ev, "event_type");
  e.resource_type = str(ev, "resource_type");
  if (e.id.empty()) {
    return Error{"event.id: missing"};
  }
  if (e.event_type.empty()) {
    return Error{"event.event_type: missing"};
  }
  std::string occurred = str(ev, "occurred_at");
  auto t = parse_rfc3339(occurred);
  if (!t) {
    return Error{"event.occurred_at: \"" + excerpt(occurred) + "\" is not an RFC 3339 time"};
  }
  e.occurred_at = *t;
  e.agent = user(ev.contains("agent") ? ev["agent"] : json{});
  const json& data = member(ev, "data");
  if (e.resource_type != "incident") {
    return e;  // pings, services...: acknowledged and ignored by the caller
  }
  std::string data_type = str(data, "type");
  if (data_type == "incident") {
    read_incident(data, e);
  } else {
    // Notes, responders, status updates: the incident is a reference in data.incident.
    read_incident(member(data, "incident"), e);
    e.note = str(data, "content");
    e.responder = user(data.contains("user") ? data["user"] : json{});
    e.responder_state = str(data, "state");
    e.message = str(data, "message");
  }
  if (e.incident_id.empty()) {
    return Error{"event.data: no incident id in an incident event"};
  }
  return e;
}

}  // namespace calloutd::receivers
