#include "daemon/http/http_server.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "daemon/base/hash.hpp"
#include "daemon/base/log.hpp"
#include "daemon/engine/manual.hpp"
#include "receivers/alertmanager.hpp"
#include "receivers/api.hpp"
#include "receivers/pagerduty.hpp"

namespace calloutd {
namespace {

using nlohmann::json;

HttpResponse json_response(const json& body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// The pipeline refused an event: nothing was written; the sender retries.
// `overloaded_status`: 503 for Alertmanager and the API, 429 for PagerDuty
// (which drops deliveries on any other 4xx).
HttpResponse refusal_response(Submitter::Refusal refusal, int overloaded_status) {
  auto r =
      refusal == Submitter::Refusal::overloaded
          ? HttpResponse::error(overloaded_status,
                                "overloaded: too many events waiting to be committed; retry later")
          : HttpResponse::error(503,
                                "cannot journal the event (disk full or read-only?); retry later");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

// Why `header` (the Authorization header) does not match `auth`, for the
// log: the kind of mistake, never the credential or a part of it.
std::string refusal_reason(const ReceiverAuth& auth, const std::string& header) {
  if (header.empty()) {
    return "missing credentials";
  }
  if (header.rfind("Bearer ", 0) == 0 && !auth.bearer_token.empty()) {
    return "wrong bearer token";
  }
  if (header.rfind("Basic ", 0) == 0 && !auth.basic.empty()) {
    const std::string pair = base64_decode(header.substr(6));
    const std::string user = pair.substr(0, pair.find(':'));
    bool known = std::any_of(auth.basic.begin(), auth.basic.end(), [&](const BasicAuth& b) {
      return constant_time_equals(user, b.username);
    });
    return known ? "wrong basic-auth password" : "unknown basic-auth user";
  }
  return "unsupported authorization scheme";
}

// API requests that may wait on the engine's strand at once: half of the
// listener's 8 workers, so that webhooks always find one.
constexpr int k_max_strand_waiters = 4;

// PagerDuty retries a delivery for up to 48 hours.
constexpr auto k_delivery_window = std::chrono::hours(48);
constexpr std::size_t k_max_remembered_deliveries = 200000;

}  // namespace

template <typename Task>
std::variant<decltype(std::declval<Task>()()), HttpResponse> HttpServer::waiting_for_engine(
    Task task) {
  if (++m_strand_waiters > k_max_strand_waiters) {
    --m_strand_waiters;
    auto busy = HttpResponse::error(503, "the engine is busy with earlier requests; retry");
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  }
  struct Release {
    std::atomic<int>& waiters;
    ~Release() { --waiters; }
  } release{m_strand_waiters};
  return task();
}

std::string unauthenticated_exposure(const Config& config) {
  auto hp = split_host_port(config.listen_address);
  if (!hp || is_loopback_host(hp->first) || config.alertmanager_auth.enabled() ||
      config.allow_unauthenticated) {
    return "";
  }
  return "listening on " + config.listen_address +
         " beyond this machine with no credentials would let anyone open incidents and "
         "change roles: set receivers.alertmanager.bearer_token_file or basic_auth, or "
         "web.allow_unauthenticated: true to accept that";
}

HttpServer::HttpServer(const Config& config, Submitter& pipeline, Metrics& metrics,
                       PostmortemCheck check)
    : m_config(std::make_shared<const Config>(config)),
      m_pipeline(pipeline),
      m_metrics(metrics),
      m_engine_check(std::move(check)),
      m_listener(std::make_unique<HttpListener>(config.http, routes(), metrics)) {}

HttpServer::~HttpServer() {
  stop();
}

std::vector<HttpRoute> HttpServer::routes() {
  const std::size_t api_body = 64 * 1024;  // the API's JSON requests are a few hundred bytes
  auto authenticated = [this](const char* receiver) {
    return [this, receiver](const HttpRequest& head) { return check_credentials(head, receiver); };
  };
  auto reads = [this](const HttpRequest& head) -> std::optional<HttpResponse> {
    return config()->authenticate_reads ? check_credentials(head, "") : std::nullopt;
  };
  const auto config = this->config();
  std::vector<HttpRoute> r;
  r.push_back({"POST", "/api/v1/alertmanager", config->max_body_bytes, "web.max_body_bytes",
               authenticated("alertmanager"),
               [this](const HttpRequest& q) { return handle_alertmanager(q); }, false,
               "alertmanager"});
  r.push_back({"POST",
               "/api/v1/pagerduty",
               config->pagerduty.enabled ? config->pagerduty.max_body_bytes : 0,
               "receivers.pagerduty.max_body_bytes",
               {},
               [this](const HttpRequest& q) { return handle_pagerduty(q); },
               false,
               "pagerduty"});
  r.push_back({"POST", "/api/v1/incidents", api_body, "the API's limit", authenticated(""),
               [this](const HttpRequest& q) { return handle_new(q); }});
  r.push_back({"POST", "/api/v1/incidents/{}/roles", api_body, "the API's limit", authenticated(""),
               [this](const HttpRequest& q) { return handle_roles(q); }});
  r.push_back({"POST", "/api/v1/incidents/{}/postmortem/status", api_body, "the API's limit",
               authenticated(""),
               [this](const HttpRequest& q) { return handle_postmortem_status(q); }});
  r.push_back({"POST", "/api/v1/incidents/{}/resolve", api_body, "the API's limit",
               authenticated(""), [this](const HttpRequest& q) { return handle_resolve(q); }});
  r.push_back({"POST", "/api/v1/incidents/{}/ack", api_body, "the API's limit", authenticated(""),
               [this](const HttpRequest& q) { return handle_ack(q); }});
  r.push_back({"POST", "/-/reload", 0, "", authenticated(""),
               [this](const HttpRequest&) { return handle_reload(); }});
  r.push_back({"GET", "/api/v1/incidents", 0, "", reads,
               [this](const HttpRequest&) { return handle_incidents(); }});
  r.push_back({"GET", "/metrics", 0, "", reads, [this](const HttpRequest&) {
                 auto res = HttpResponse::text(m_metrics.serialize());
                 res.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 return res;
               }});
  r.push_back({"GET",
               "/-/healthy",
               0,
               "",
               {},
               [](const HttpRequest&) { return HttpResponse::text("calloutd is Healthy.\n"); },
               true});
  r.push_back(
      {"GET", "/-/ready", 0, "", {}, [this](const HttpRequest&) { return handle_ready(); }, true});
  return r;
}

std::shared_ptr<const Config> HttpServer::config() const {
  std::lock_guard lock(m_config_mutex);
  return m_config;
}

void HttpServer::reconfigure(std::shared_ptr<const Config> config) {
  {
    std::lock_guard lock(m_config_mutex);
    m_config = std::move(config);
  }
  m_listener->set_routes(routes());  // the limits on bodies come from the config
}

// Prometheus' lifecycle endpoint: off unless --web.enable-lifecycle.
HttpResponse HttpServer::handle_reload() {
  if (!config()->enable_lifecycle || !m_reload) {
    return HttpResponse::error(
        403,
        "the lifecycle endpoints are off: start calloutd with --web.enable-lifecycle "
        "(SIGHUP reloads the configuration either way)");
  }
  auto reloaded = waiting_for_engine([this] { return m_reload(); });  // it waits for the strand
  if (auto* busy = std::get_if<HttpResponse>(&reloaded)) {
    return *busy;
  }
  auto& outcome = std::get<0>(reloaded);
  if (!outcome) {
    return HttpResponse::error(500, "configuration not reloaded: " + outcome.error());
  }
  return json_response(json{{"status", "reloaded"}, {"restart_needed", *outcome}});
}

// Ready means the daemon commits what it accepts. A group held for a
// problem of its own (its state file unreadable...) does not change that:
// every other group commits, and no other instance could write the held
// group's files either. So 200, naming the held groups; 503 only while
// commits fail for everyone (docs/troubleshooting.md).
HttpResponse HttpServer::handle_ready() const {
  if (!m_ready) {
    return HttpResponse::text("calloutd is not ready (replaying the journal).\n", 503);
  }
  if (m_pipeline.stuck()) {
    return HttpResponse::text(
        "calloutd is not ready: events cannot be committed to the repository (see the log); "
        "they are journaled and retried.\n",
        503);
  }
  std::string body = "calloutd is Ready.\n";
  const auto held = m_pipeline.held_groups();
  if (!held.empty()) {
    body += "Events of " + std::to_string(held.size()) +
            " group(s) are held for a problem of their own, retried, and applied once it is "
            "repaired; other groups' events are committed:\n";
  }
  for (const auto& g : held) {
    body += "- group " + g.group + " (" + g.reason + ", " + std::to_string(g.events) +
            " events since " + format_rfc3339_millis(g.since) + "): " + g.error + "\n";
  }
  return HttpResponse::text(body);
}

namespace {

nlohmann::json held_json(const Submitter::HeldGroup& g) {
  return {{"group", g.group},
          {"reason", g.reason},
          {"error", g.error},
          {"incident", g.incident_id},
          {"folder", g.folder},
          {"events", g.events},
          {"oldest_sequence", g.oldest_sequence},
          {"since", format_rfc3339_millis(g.since)}};
}

}  // namespace

// The open incidents, and the groups whose events are held (an incident of
// a held group says so in its "held").
HttpResponse HttpServer::handle_incidents() const {
  json list = json::array();
  json held = json::array();
  std::map<std::string, json> held_incidents;
  for (const auto& g : m_pipeline.held_groups()) {
    held.push_back(held_json(g));
    if (!g.incident_id.empty()) {
      held_incidents[g.incident_id] = held.back();
    }
  }
  for (const auto& i : m_pipeline.open_incidents()) {
    list.push_back({{"id", i.incident_id},
                    {"folder", i.folder},
                    {"technology", i.technology},
                    {"severity", i.severity},
                    {"status", "active"},
                    {"opened_at", format_rfc3339_millis(i.opened_at)},
                    {"roles", i.roles},
                    {"handover_due", format_rfc3339_millis(i.handover_due)}});
    if (auto it = held_incidents.find(i.incident_id); it != held_incidents.end()) {
      list.back()["held"] = it->second;
    }
  }
  return json_response(json{{"incidents", list}, {"held", held}});
}

// The credentials of the Alertmanager receiver, which the API shares: a
// bearer token and/or basic-auth users. The 401's challenge names the
// schemes that are configured.
std::optional<HttpResponse> HttpServer::check_credentials(const HttpRequest& head,
                                                          const std::string& receiver) {
  const auto config = this->config();
  const auto& auth = config->alertmanager_auth;
  if (!auth.enabled()) {
    return std::nullopt;
  }
  const std::string header = head.header("authorization");
  if (!auth.bearer_token.empty() && header.rfind("Bearer ", 0) == 0 &&
      constant_time_equals(header.substr(7), auth.bearer_token)) {
    return std::nullopt;
  }
  if (header.rfind("Basic ", 0) == 0) {
    for (const auto& b : auth.basic) {
      if (constant_time_equals(header.substr(6), base64_encode(b.username + ":" + b.password))) {
        return std::nullopt;
      }
    }
  }
  if (!receiver.empty()) {
    m_metrics.count_request(receiver, "unauthorized");
  }
  log_refusal(head, refusal_reason(auth, header));
  auto res = HttpResponse::error(
      401, receiver.empty() ? "missing or wrong credentials"
                            : "missing or wrong credentials for the " + receiver + " receiver");
  if (!auth.bearer_token.empty()) {
    res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"calloutd\"");
  }
  if (!auth.basic.empty()) {
    res.headers.emplace_back("WWW-Authenticate", "Basic realm=\"calloutd\", charset=\"UTF-8\"");
  }
  return res;
}

void HttpServer::log_refusal(const HttpRequest& head, const std::string& reason) {
  for (const auto& line : m_auth_log.refused(head.remote_addr, reason, head.path)) {
    AuthFailureLog::write(line);
  }
}

void HttpServer::log_refusal_counts() {
  for (const auto& line : m_auth_log.due()) {
    AuthFailureLog::write(line);
  }
}

HttpResponse HttpServer::handle_alertmanager(const HttpRequest& req) {
  const std::string receiver = "alertmanager";
  auto duplicate = [&](std::uint64_t original) {
    // An HA peer's copy or a repeat of what is already applied: nothing to do.
    m_metrics.count_request(receiver, "duplicate");
    return json_response(json{{"status", "accepted"}, {"duplicate_of", original}});
  };
  Submitter::CopyKeys keys{sha256_hex(req.body), ""};
  if (auto original = m_pipeline.duplicate_of_body(keys.body)) {
    return duplicate(*original);
  }
  auto group = receivers::parse_alertmanager(req.body);
  if (!group) {
    m_metrics.count_request(receiver, "bad_request");
    log::warn("rejected an alertmanager webhook",
              {{"error", group.error()}, {"remote", req.remote_addr}});
    return HttpResponse::error(400, "not an Alertmanager webhook: " + group.error());
  }
  keys.content = receivers::content_key(*group);
  if (auto original = m_pipeline.duplicate_of(group->group_key, keys.content)) {
    return duplicate(*original);
  }
  auto outcome = m_pipeline.submit(receiver, req.body, std::move(*group), false, std::move(keys));
  if (auto* refusal = std::get_if<Submitter::Refusal>(&outcome)) {
    m_metrics.count_request(receiver,
                            *refusal == Submitter::Refusal::overloaded ? "overloaded" : "error");
    return refusal_response(*refusal, 503);
  }
  m_metrics.count_request(receiver, "accepted");
  return json_response(
      json{{"status", "accepted"}, {"sequence", std::get<std::uint64_t>(outcome)}});
}

bool HttpServer::seen_delivery(const std::string& webhook_id) {
  std::lock_guard lock(m_deliveries_mutex);
  return !webhook_id.empty() && m_recent_delivery_set.contains(webhook_id);
}

void HttpServer::remember_delivery(const std::string& webhook_id) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(m_deliveries_mutex);
  while (!m_recent_deliveries.empty() &&
         (now - m_recent_deliveries.front().second > k_delivery_window ||
          m_recent_deliveries.size() >= k_max_remembered_deliveries)) {
    m_recent_delivery_set.erase(m_recent_deliveries.front().first);
    m_recent_deliveries.pop_front();
  }
  if (webhook_id.empty() || !m_recent_delivery_set.emplace(webhook_id, now).second) {
    return;
  }
  m_recent_deliveries.emplace_back(webhook_id, now);
}

// PagerDuty disables a subscription after repeated failed deliveries and
// drops on any 4xx but 429: whatever is valid but not for calloutd (pings,
// service events, unknown event types) gets a 2xx. A delivery is recognised
// again by its X-Webhook-Id here (48 hours, in memory) and by its event id in
// the engine (48 hours, in the repository's state: across restarts).
HttpResponse HttpServer::handle_pagerduty(const HttpRequest& req) {
  const std::string receiver = "pagerduty";
  const auto config = this->config();
  const auto& pd = config->pagerduty;
  if (!pd.enabled) {
    m_metrics.count_request(receiver, "bad_request");
    return HttpResponse::error(
        404, "the pagerduty receiver is not configured (receivers.pagerduty in the config)");
  }
  bool verified = false;
  const std::string signature = req.header("x-pagerduty-signature");
  if (!pd.secrets.empty()) {
    verified = !signature.empty() &&
               receivers::verify_pagerduty_signature(req.body, signature, pd.secrets);
    if (!verified && !(pd.allow_unsigned && signature.empty())) {
      m_metrics.count_request(receiver, "unauthorized");
      log_refusal(req, signature.empty() ? "missing signature" : "bad signature");
      return HttpResponse::error(401, signature.empty()
                                          ? "missing X-PagerDuty-Signature header"
                                          : "no valid signature in X-PagerDuty-Signature");
    }
  }
  auto event = receivers::parse_pagerduty(req.body);
  if (!event) {
    m_metrics.count_request(receiver, "bad_request");
    log::warn("rejected a pagerduty webhook",
              {{"error", event.error()}, {"remote", req.remote_addr}});
    return HttpResponse::error(400, "not a PagerDuty V3 webhook: " + event.error());
  }
  event->signed_ok = verified;
  if (!event->is_incident()) {
    m_metrics.count_request(receiver, "ignored");
    return json_response(
        json{{"status", "ignored"}, {"reason", event->event_type + " is not an incident event"}},
        202);
  }
  const std::string webhook_id = req.header("x-webhook-id");
  if (seen_delivery(webhook_id)) {
    m_metrics.count_request(receiver, "duplicate");
    return json_response(json{{"status", "duplicate"}}, 202);
  }
  auto outcome = m_pipeline.submit(receiver, req.body, std::move(*event), verified, {});
  if (auto* refusal = std::get_if<Submitter::Refusal>(&outcome)) {
    m_metrics.count_request(receiver,
                            *refusal == Submitter::Refusal::overloaded ? "overloaded" : "error");
    return refusal_response(*refusal, 429);  // PagerDuty retries 429 and 5xx
  }
  remember_delivery(webhook_id);
  m_metrics.count_request(receiver, "accepted");
  return json_response(json{{"status", "accepted"}, {"sequence", std::get<std::uint64_t>(outcome)}},
                       202);
}

// POST /api/v1/incidents/{id}/postmortem/status {"status": "published"}:
// moves the postmortem (draft, in review, published). Authenticated like the
// Alertmanager receiver. 409 lists what blocks the move.
HttpResponse HttpServer::handle_postmortem_status(const HttpRequest& req) {
  auto change = receivers::parse_postmortem_status(req.body, req.params.at(0));
  if (!change) {
    return HttpResponse::error(400, change.error());
  }
  const std::string& incident = change->incident_id;
  const std::string& status = change->status;
  if (!m_engine_check) {
    return HttpResponse::error(404, "postmortem changes are not available here");
  }
  auto checked = waiting_for_engine(
      [&] { return m_pipeline.on_strand([&] { return m_engine_check(incident, status); }); });
  if (auto* busy = std::get_if<HttpResponse>(&checked)) {
    return *busy;
  }
  auto& blockers = std::get<0>(checked);
  if (!blockers) {
    return HttpResponse::error(404, blockers.error());
  }
  if (!blockers->empty()) {
    return json_response(
        json{{"error", "the postmortem cannot move to \"" + status + "\""}, {"missing", *blockers}},
        409);
  }
  auto response =
      json{{"status", "accepted"}, {"incident", incident}, {"postmortem_status", status}};
  auto record = receivers::api_record(*change);
  auto outcome = m_pipeline.submit(receivers::k_api_source, record, std::move(*change), false, {});
  if (auto* refusal = std::get_if<Submitter::Refusal>(&outcome)) {
    return refusal_response(*refusal, 503);
  }
  return json_response(response, 202);
}

// POST /api/v1/incidents/{id}/roles {"action": "join"|"leave"|"handover",
// "role": "Operations", "person": "Ana", "to": "Bo"}. Authenticated like the
// Alertmanager receiver; journaled before the 202, which echoes the record.
// A leave by someone who does not hold the role is a 409 naming the holder.
HttpResponse HttpServer::handle_roles(const HttpRequest& req) {
  const std::string& incident = req.params.at(0);
  auto parsed = receivers::parse_role_request(req.body, incident, std::chrono::system_clock::now());
  if (!parsed) {
    return HttpResponse::error(400, parsed.error());
  }
  auto record = receivers::api_record(*parsed);
  auto response = json::parse(record);
  response.erase("kind");
  response["status"] = "accepted";
  return submit_request(std::move(*parsed), record, response);
}

// POST /api/v1/incidents/{id}/resolve {"note": "..."}: a callout resolved by
// hand (calloutctl resolve), journaled before the 202. 409 while alerts of
// its group fire (Alertmanager would open it again); 200 "unchanged" when it
// is resolved already.
HttpResponse HttpServer::handle_resolve(const HttpRequest& req) {
  auto parsed = receivers::parse_resolve_request(req.body, req.params.at(0));
  if (!parsed) {
    return HttpResponse::error(400, parsed.error());
  }
  auto record = receivers::api_record(*parsed);
  json accepted{{"status", "accepted"}, {"incident", parsed->incident_id}, {"resolved", true}};
  return submit_request(std::move(*parsed), record, accepted);
}

// POST /api/v1/incidents/{id}/ack {"person": "..."}: an acknowledgement
// (calloutctl ack), journaled before the 202; the first one counts (200
// "unchanged" after it), 409 for a resolved incident.
HttpResponse HttpServer::handle_ack(const HttpRequest& req) {
  auto parsed = receivers::parse_ack_request(req.body, req.params.at(0));
  if (!parsed) {
    return HttpResponse::error(400, parsed.error());
  }
  auto record = receivers::api_record(*parsed);
  json accepted{{"status", "accepted"}, {"incident", parsed->incident_id}, {"acknowledged", true}};
  return submit_request(std::move(*parsed), record, accepted);
}

HttpResponse HttpServer::submit_request(Payload request, const std::string& record,
                                        const json& accepted) {
  if (m_admit) {
    auto admitted =
        waiting_for_engine([&] { return m_pipeline.on_strand([&] { return m_admit(request); }); });
    if (auto* busy = std::get_if<HttpResponse>(&admitted)) {
      return *busy;
    }
    const auto& admission = std::get<0>(admitted);
    using Verdict = Engine::Admission::Verdict;
    switch (admission.verdict) {
      case Verdict::unknown:
        return HttpResponse::error(404, admission.reason);
      case Verdict::conflict: {
        json body{{"error", admission.reason}};
        if (!admission.details.empty()) {
          body["details"] = admission.details;
        }
        return json_response(body, 409);
      }
      case Verdict::unchanged:
        return json_response(json{{"status", "unchanged"}, {"reason", admission.reason}});
      case Verdict::accept:
        break;
    }
  }
  auto outcome = m_pipeline.submit(receivers::k_api_source, record, std::move(request), false, {});
  if (auto* refusal = std::get_if<Submitter::Refusal>(&outcome)) {
    return refusal_response(*refusal, 503);
  }
  return json_response(accepted, 202);
}

// POST /api/v1/incidents {"technology", "issue", "severity", "summary"}: a
// callout opened by hand. Authenticated like the Alertmanager receiver;
// journaled before the 202, which names the incident.
HttpResponse HttpServer::handle_new(const HttpRequest& req) {
  auto parsed = receivers::parse_manual_incident(req.body, std::chrono::system_clock::now());
  if (!parsed) {
    return HttpResponse::error(400, parsed.error());
  }
  auto id = manual_incident_id(*parsed);
  auto record = receivers::api_record(*parsed);
  auto outcome = m_pipeline.submit(receivers::k_api_source, record, std::move(*parsed), false, {});
  if (auto* refusal = std::get_if<Submitter::Refusal>(&outcome)) {
    return refusal_response(*refusal, 503);
  }
  return json_response(json{{"status", "accepted"}, {"id", id}}, 202);
}

}  // namespace calloutd
