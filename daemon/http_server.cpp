#include "daemon/http_server.hpp"

#include <httplib.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "daemon/hash.hpp"
#include "daemon/log.hpp"
#include "daemon/manual.hpp"
#include "daemon/postmortem.hpp"
#include "daemon/slug.hpp"
#include "receivers/alertmanager.hpp"
#include "receivers/pagerduty.hpp"

namespace calloutd {
namespace {

using nlohmann::json;

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", message}}.dump(), "application/json");
}

// 401 with the challenge clients expect.
void send_unauthorized(httplib::Response& res, const std::string& message) {
  res.set_header("WWW-Authenticate", "Bearer realm=\"calloutd\"");
  send_error(res, 401, message);
}

// The pipeline refused an event: nothing was written; the sender retries.
// `overloaded_status`: 503 for Alertmanager and the API, 429 for PagerDuty
// (which drops deliveries on any other 4xx).
void send_refusal(httplib::Response& res, Pipeline::Refusal refusal, int overloaded_status) {
  res.set_header("Retry-After", "5");
  if (refusal == Pipeline::Refusal::overloaded) {
    send_error(res, overloaded_status,
               "overloaded: too many events waiting to be committed; retry later");
  } else {
    send_error(res, 503, "cannot journal the event (disk full or read-only?); retry later");
  }
}

std::string default_message(int status) {
  switch (status) {
    case 404:
      return "no such endpoint";
    case 405:
      return "method not allowed";
    case 413:
      return "request body too large";
    case 400:
      return "malformed request";
    default:
      return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

Result<std::pair<std::string, int>> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Error{"listen address \"" + address + "\" has no port (use HOST:PORT)"};
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1) {
      port = -1;
    }
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) {
    return Error{"listen address \"" + address + "\" has a bad port"};
  }
  return std::pair{host.empty() ? std::string("0.0.0.0") : host, port};
}

HttpServer::HttpServer(const Config& config, Pipeline& pipeline, Metrics& metrics,
                       PostmortemCheck check)
    : m_config(config),
      m_pipeline(pipeline),
      m_metrics(metrics),
      m_server(std::make_unique<httplib::Server>()),
      m_engine_check(std::move(check)) {
  auto& s = *m_server;
  // Alertmanager keeps connections alive: without TCP_NODELAY each answer waits for Nagle.
  s.set_tcp_nodelay(true);
  // The larger limit is enforced while reading; each endpoint checks its own.
  s.set_payload_max_length(std::max(
      m_config.max_body_bytes, m_config.pagerduty.enabled ? m_config.pagerduty.max_body_bytes : 0));
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_keep_alive_timeout(30);

  s.Post("/api/v1/alertmanager", [this](const httplib::Request& req, httplib::Response& res) {
    handle_alertmanager(req, res);
  });
  s.Post("/api/v1/pagerduty", [this](const httplib::Request& req, httplib::Response& res) {
    handle_pagerduty(req, res);
  });
  s.Post("/api/v1/incidents",
         [this](const httplib::Request& req, httplib::Response& res) { handle_new(req, res); });
  s.Post(R"(/api/v1/incidents/([A-Za-z0-9_.-]+)/roles)",
         [this](const httplib::Request& req, httplib::Response& res) { handle_roles(req, res); });
  s.Post(R"(/api/v1/incidents/([A-Za-z0-9_.-]+)/postmortem/status)",
         [this](const httplib::Request& req, httplib::Response& res) {
           handle_postmortem_status(req, res);
         });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(m_metrics.serialize(), "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("calloutd is Healthy.\n", "text/plain");
  });
  s.Get("/-/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (m_ready) {
      res.set_content("calloutd is Ready.\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("calloutd is not ready (replaying the journal).\n", "text/plain");
    }
  });
  s.Get("/api/v1/incidents", [this](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const auto& i : m_pipeline.open_incidents()) {
      list.push_back({{"id", i.incident_id},
                      {"folder", i.folder},
                      {"technology", i.technology},
                      {"severity", i.severity},
                      {"status", "active"},
                      {"opened_at", format_rfc3339_millis(i.opened_at)},
                      {"roles", i.roles},
                      {"handover_due", format_rfc3339_millis(i.handover_due)}});
    }
    res.set_content(json{{"incidents", list}}.dump(), "application/json");
  });
  // Errors httplib produces itself (413, 404, 400...) get a JSON body too.
  s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 413 && req.path == "/api/v1/alertmanager") {
      m_metrics.count_request("alertmanager", "too_large");
    }
    if (res.status == 413 && req.path == "/api/v1/pagerduty") {
      m_metrics.count_request("pagerduty", "too_large");
    }
    if (res.body.empty()) {
      send_error(res, res.status, default_message(res.status));
    }
  });
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what += std::string(": ") + e.what();
        } catch (...) {
        }
        log::error("request failed", {{"error", what}});
        send_error(res, 500, what);
      });
}

HttpServer::~HttpServer() {
  stop();
}

Result<int> HttpServer::bind(const std::string& address) {
  auto hp = split_host_port(address);
  if (!hp) {
    return Error{hp.error()};
  }
  auto [host, port] = *hp;
  int bound = port == 0 ? m_server->bind_to_any_port(host)
                        : (m_server->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return Error{"cannot listen on \"" + address + "\" (in use, or no such address)"};
  }
  return bound;
}

void HttpServer::run() {
  m_server->listen_after_bind();
}

void HttpServer::stop() {
  if (m_server && m_server->is_running()) {
    m_server->stop();
  }
}

bool HttpServer::authorized(const ReceiverAuth& auth, const httplib::Request& req) const {
  if (!auth.enabled()) {
    return true;
  }
  const std::string header = req.get_header_value("Authorization");
  if (!auth.bearer_token.empty() && header.rfind("Bearer ", 0) == 0 &&
      constant_time_equals(header.substr(7), auth.bearer_token)) {
    return true;
  }
  if (header.rfind("Basic ", 0) == 0) {
    for (const auto& b : auth.basic) {
      std::string expected = base64_encode(b.username + ":" + b.password);
      if (constant_time_equals(header.substr(6), expected)) {
        return true;
      }
    }
  }
  return false;
}

void HttpServer::handle_alertmanager(const httplib::Request& req, httplib::Response& res) {
  const std::string receiver = "alertmanager";
  if (!authorized(m_config.alertmanager_auth, req)) {
    m_metrics.count_request(receiver, "unauthorized");
    send_unauthorized(res, "missing or wrong credentials for the alertmanager receiver");
    return;
  }
  auto duplicate = [&](std::uint64_t original) {
    // An HA peer's copy or a repeat of what is already applied: nothing to do.
    m_metrics.count_request(receiver, "duplicate");
    res.set_content(json{{"status", "accepted"}, {"duplicate_of", original}}.dump(),
                    "application/json");
  };
  Pipeline::CopyKeys keys{sha256_hex(req.body), ""};
  if (auto original = m_pipeline.duplicate_of_body(keys.body)) {
    duplicate(*original);
    return;
  }
  auto group = receivers::parse_alertmanager(req.body);
  if (!group) {
    m_metrics.count_request(receiver, "bad_request");
    log::warn("rejected an alertmanager webhook",
              {{"error", group.error()}, {"remote", req.remote_addr}});
    send_error(res, 400, "not an Alertmanager webhook: " + group.error());
    return;
  }
  keys.content = receivers::content_key(*group);
  if (auto original = m_pipeline.duplicate_of(group->group_key, keys.content)) {
    duplicate(*original);
    return;
  }
  auto outcome = m_pipeline.submit(receiver, req.body, std::move(*group), false, std::move(keys));
  if (auto* refusal = std::get_if<Pipeline::Refusal>(&outcome)) {
    m_metrics.count_request(receiver,
                            *refusal == Pipeline::Refusal::overloaded ? "overloaded" : "error");
    send_refusal(res, *refusal, 503);
    return;
  }
  m_metrics.count_request(receiver, "accepted");
  res.set_content(
      json{{"status", "accepted"}, {"sequence", std::get<std::uint64_t>(outcome)}}.dump(),
      "application/json");
}

}  // namespace calloutd

namespace calloutd {

bool HttpServer::seen_delivery(const std::string& webhook_id) {
  std::lock_guard lock(m_deliveries_mutex);
  return !webhook_id.empty() && m_recent_delivery_set.contains(webhook_id);
}

void HttpServer::remember_delivery(const std::string& webhook_id) {
  constexpr std::size_t k_remembered = 4096;
  std::lock_guard lock(m_deliveries_mutex);
  if (webhook_id.empty() || !m_recent_delivery_set.insert(webhook_id).second) {
    return;
  }
  m_recent_deliveries.push_back(webhook_id);
  if (m_recent_deliveries.size() > k_remembered) {
    m_recent_delivery_set.erase(m_recent_deliveries.front());
    m_recent_deliveries.pop_front();
  }
}

// PagerDuty disables a subscription after repeated failed deliveries and
// drops on any 4xx but 429: whatever is valid but not for calloutd (pings,
// service events, unknown event types) gets a 2xx.
void HttpServer::handle_pagerduty(const httplib::Request& req, httplib::Response& res) {
  const std::string receiver = "pagerduty";
  const auto& pd = m_config.pagerduty;
  if (!pd.enabled) {
    m_metrics.count_request(receiver, "bad_request");
    send_error(res, 404,
               "the pagerduty receiver is not configured (receivers.pagerduty in the config)");
    return;
  }
  if (req.body.size() > pd.max_body_bytes) {
    m_metrics.count_request(receiver, "too_large");
    send_error(res, 413,
               "request body too large (receivers.pagerduty.max_body_bytes is " +
                   std::to_string(pd.max_body_bytes) + ")");
    return;
  }
  bool verified = false;
  const std::string signature = req.get_header_value("X-PagerDuty-Signature");
  if (!pd.secrets.empty()) {
    verified = !signature.empty() &&
               receivers::verify_pagerduty_signature(req.body, signature, pd.secrets);
    if (!verified && !(pd.allow_unsigned && signature.empty())) {
      m_metrics.count_request(receiver, "unauthorized");
      send_error(res, 401,
                 signature.empty() ? "missing X-PagerDuty-Signature header"
                                   : "no valid signature in X-PagerDuty-Signature");
      return;
    }
  }
  auto event = receivers::parse_pagerduty(req.body);
  if (!event) {
    m_metrics.count_request(receiver, "bad_request");
    log::warn("rejected a pagerduty webhook",
              {{"error", event.error()}, {"remote", req.remote_addr}});
    send_error(res, 400, "not a PagerDuty V3 webhook: " + event.error());
    return;
  }
  event->signed_ok = verified;
  res.status = 202;
  if (!event->is_incident()) {
    m_metrics.count_request(receiver, "ignored");
    res.set_content(
        json{{"status", "ignored"}, {"reason", event->event_type + " is not an incident event"}}
            .dump(),
        "application/json");
    return;
  }
  const std::string webhook_id = req.get_header_value("X-Webhook-Id");
  if (seen_delivery(webhook_id)) {
    // A retry of a delivery already journaled (the engine also dedups on the event id).
    m_metrics.count_request(receiver, "duplicate");
    res.set_content(json{{"status", "duplicate"}}.dump(), "application/json");
    return;
  }
  auto outcome = m_pipeline.submit(receiver, req.body, std::move(*event), verified);
  if (auto* refusal = std::get_if<Pipeline::Refusal>(&outcome)) {
    m_metrics.count_request(receiver,
                            *refusal == Pipeline::Refusal::overloaded ? "overloaded" : "error");
    send_refusal(res, *refusal, 429);  // PagerDuty retries 429 and 5xx
    return;
  }
  remember_delivery(webhook_id);
  m_metrics.count_request(receiver, "accepted");
  res.set_content(
      json{{"status", "accepted"}, {"sequence", std::get<std::uint64_t>(outcome)}}.dump(),
      "application/json");
}

}  // namespace calloutd

namespace calloutd {

// POST /api/v1/incidents/{id}/postmortem/status {"status": "published"}:
// moves the postmortem (draft, in review, published). Authenticated like the
// Alertmanager receiver. 409 lists what blocks the move.
void HttpServer::handle_postmortem_status(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(m_config.alertmanager_auth, req)) {
    send_unauthorized(res, "missing or wrong credentials");
    return;
  }
  const std::string incident = req.matches[1];
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("status") ||
      !body["status"].is_string()) {
    send_error(res, 400,
               "expected a JSON object {\"status\": \"draft\" | \"in review\" | \"published\"}");
    return;
  }
  const std::string status = body["status"];
  if (!m_engine_check) {
    send_error(res, 404, "postmortem changes are not available here");
    return;
  }
  auto blockers = m_pipeline.on_strand([&] { return m_engine_check(incident, status); });
  if (!blockers) {
    send_error(res, 404, blockers.error());
    return;
  }
  if (!blockers->empty()) {
    res.status = 409;
    res.set_content(
        json{{"error", "the postmortem cannot move to \"" + status + "\""}, {"missing", *blockers}}
            .dump(),
        "application/json");
    return;
  }
  json record{{"incident_id", incident}, {"status", status}};
  auto outcome =
      m_pipeline.submit("api", record.dump(), PostmortemStatusChange{incident, "", status, false});
  if (auto* refusal = std::get_if<Pipeline::Refusal>(&outcome)) {
    send_refusal(res, *refusal, 503);
    return;
  }
  res.status = 202;
  res.set_content(
      json{{"status", "accepted"}, {"incident", incident}, {"postmortem_status", status}}.dump(),
      "application/json");
}

}  // namespace calloutd

namespace calloutd {

// POST /api/v1/incidents/{id}/roles {"action": "join"|"leave"|"handover",
// "role": "Operations", "person": "Ana", "to": "Bo"}. Authenticated like the
// Alertmanager receiver; journaled before the 202.
void HttpServer::handle_roles(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(m_config.alertmanager_auth, req)) {
    send_unauthorized(res, "missing or wrong credentials");
    return;
  }
  const std::string incident = req.matches[1];
  auto body = json::parse(req.body, nullptr, false);
  auto field = [&](const char* key) {
    return body.is_object() && body.contains(key) && body[key].is_string()
               ? body[key].get<std::string>()
               : "";
  };
  RoleRequest r{incident,        field("action"), field("role"),
                field("person"), field("to"),     std::nullopt};
  if (r.role == "Incident Lead") {
    r.role = "Current Incident Lead";  // the template's label
  }
  std::string problem;
  if (auto at = field("at"); !at.empty()) {
    r.at = parse_rfc3339(at);
    if (!r.at || *r.at == TimePoint{} || *r.at > std::chrono::system_clock::now()) {
      send_error(res, 400, "at: \"" + at + "\" is not an RFC 3339 time in the past");
      return;
    }
  }
  if (!body.is_object()) {
    problem = "expected a JSON object {\"action\", \"role\", \"person\", \"to\"}";
  } else if (r.action != "join" && r.action != "leave" && r.action != "handover") {
    problem = "action \"" + r.action + "\" is not one of join, leave, handover";
  } else if (std::find(std::begin(k_team_roles), std::end(k_team_roles), r.role) ==
             std::end(k_team_roles)) {
    problem = "role \"" + r.role +
              "\" is not one of Incident Lead, Operations, Secondary, Planning, "
              "Communications, Manager";
  } else if (r.person.empty()) {
    problem = "person: missing";
  } else if (r.action == "handover" && r.to.empty()) {
    problem = "to: missing (who takes over)";
  }
  if (!problem.empty()) {
    send_error(res, 400, problem);
    return;
  }
  if (m_has_incident && !m_pipeline.on_strand([&] { return m_has_incident(incident); })) {
    send_error(res, 404, "no incident \"" + incident + "\"");
    return;
  }
  json record{{"kind", "roles"}, {"incident_id", incident}, {"action", r.action},
              {"role", r.role},  {"person", r.person},      {"to", r.to}};
  if (r.at) {
    record["at"] = format_rfc3339_millis(*r.at);
  }
  auto outcome = m_pipeline.submit("api", record.dump(), r);
  if (auto* refusal = std::get_if<Pipeline::Refusal>(&outcome)) {
    send_refusal(res, *refusal, 503);
    return;
  }
  res.status = 202;
  record.erase("kind");
  record["status"] = "accepted";
  res.set_content(record.dump(), "application/json");
}

}  // namespace calloutd

namespace calloutd {

// POST /api/v1/incidents {"technology", "issue", "severity", "summary"}: a
// callout opened by hand. Authenticated like the Alertmanager receiver;
// journaled before the 202, which names the incident.
void HttpServer::handle_new(const httplib::Request& req, httplib::Response& res) {
  if (!authorized(m_config.alertmanager_auth, req)) {
    send_unauthorized(res, "missing or wrong credentials");
    return;
  }
  auto body = json::parse(req.body, nullptr, false);
  auto field = [&](const char* key) {
    return body.is_object() && body.contains(key) && body[key].is_string()
               ? body[key].get<std::string>()
               : "";
  };
  ManualIncident m{technology_slug(field("technology")), field("issue"), field("severity"),
                   field("summary"), std::chrono::system_clock::now()};
  std::string problem;
  if (!body.is_object()) {
    problem = "expected a JSON object {\"technology\", \"issue\", \"severity\", \"summary\"}";
  } else if (field("technology").empty()) {
    problem = "technology: missing (a slug such as mysql)";
  } else if (kebab_slug(m.issue, "").empty()) {
    problem = "issue: missing (what is wrong, e.g. \"replication lag\")";
  } else if (m.severity != "MPI" && m.severity != "HPI") {
    problem = "severity \"" + m.severity + "\" is not MPI or HPI";
  } else if (m.summary.empty()) {
    problem = "summary: missing";
  }
  if (!problem.empty()) {
    send_error(res, 400, problem);
    return;
  }
  json record{{"kind", "incident"},   {"technology", m.technology},
              {"issue", m.issue},     {"severity", m.severity},
              {"summary", m.summary}, {"at", format_rfc3339_millis(m.at)}};
  // The journal keeps milliseconds: the id is made from what replay will see.
  m.at = *parse_rfc3339(record["at"].get<std::string>());
  auto id = manual_incident_id(m);
  auto outcome = m_pipeline.submit("api", record.dump(), m);
  if (auto* refusal = std::get_if<Pipeline::Refusal>(&outcome)) {
    send_refusal(res, *refusal, 503);
    return;
  }
  res.status = 202;
  res.set_content(json{{"status", "accepted"}, {"id", id}}.dump(), "application/json");
}

}  // namespace calloutd
