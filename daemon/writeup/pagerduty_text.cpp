#include "daemon/writeup/pagerduty_text.hpp"

#include "daemon/text/slug.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd {
namespace {

constexpr auto k_handover_limit = std::chrono::hours{4};

}  // namespace

Labels pagerduty_labels(const PagerDutyEvent& e) {
  Labels l{{"source", "pagerduty"}, {"alertname", e.title}};
  auto put = [&](const char* key, const std::string& value) {
    if (!value.empty()) {
      l[key] = value;
    }
  };
  put("service", e.service_name);
  put("service_id", e.service_id);
  put("team", e.teams.empty() ? "" : e.teams.front());
  put("urgency", e.urgency);
  put("priority", e.priority);
  put("escalation_policy", e.escalation_policy);
  return l;
}

const Route* pagerduty_route(const PagerDutyConfig& config, const PagerDutyEvent& e) {
  auto labels = pagerduty_labels(e);
  for (const auto& r : config.routes) {
    if (r.require_signature && !e.signed_ok) {
      continue;
    }
    if (all_match(r.matchers, labels)) {
      return !r.severity_from_map && r.severity == Severity::ignore ? nullptr : &r;
    }
  }
  return nullptr;
}

Severity pagerduty_severity(const PagerDutyConfig& config, const Route& route,
                            const PagerDutyEvent& e) {
  if (!route.severity_from_map) {
    return route.severity;
  }
  for (const auto& key : {e.priority, e.urgency}) {
    auto it = config.severity_map.find(key);
    if (!key.empty() && it != config.severity_map.end() && it->second != Severity::ignore) {
      return it->second;
    }
  }
  return Severity::hpi;
}

std::string pagerduty_technology(const PagerDutyConfig& config, const Route& route,
                                 const PagerDutyEvent& e) {
  if (!route.technology.empty()) {
    return route.technology;
  }
  for (const auto& key : {e.service_id, e.service_name}) {
    if (auto it = config.services.find(key); !key.empty() && it != config.services.end()) {
      return it->second;
    }
  }
  return technology_slug(e.service_name);
}

CalloutView pagerduty_view(const PagerDutyEvent& e, const Route& route, const GroupState& state) {
  CalloutView v;
  v.summary_title = e.title.empty() ? "PagerDuty incident" : e.title;
  v.date = format_date(state.opened_at);
  v.incident_number = incident_number_text(state);
  v.severity = severity_name(state.severity);
  v.summary = v.summary_title + " (PagerDuty service " +
              (e.service_name.empty() ? "n/a" : e.service_name) + ", urgency " +
              (e.urgency.empty() ? "n/a" : e.urgency) +
              (e.priority.empty() ? "" : ", priority " + e.priority) + ")";
  v.status = "active";
  v.opened_at = format_utc(state.opened_at);
  v.handover_due = format_utc(state.opened_at + k_handover_limit);
  v.first_timeline_entry =
      timeline_line(state.opened_at,
                    "incident #" + std::to_string(e.number) +
                        " opened in PagerDuty; callout opened as " + v.severity,
                    "PagerDuty");
  auto pd_link = markdown::link("PagerDuty incident #" + std::to_string(e.number), e.incident_url);
  v.dashboard = pd_link;
  if (!route.dashboard_url_template.empty()) {
    auto url = render_url_template(route.dashboard_url_template, pagerduty_labels(e));
    if (!markdown::safe_url(url).empty()) {
      v.dashboard = markdown::link("Dashboard", url);
      v.dashboard_url = url;
    }
  }
  v.alert_source = pd_link;
  v.runbook = "n/a";
  v.detection =
      markdown::escape_inline("PagerDuty incident #" + std::to_string(e.number) + " on service " +
                              (e.service_name.empty() ? "n/a" : e.service_name));
  v.labels_table = labels_table({pagerduty_labels(e)});
  v.previous_occurrences = "n/a";
  return v;
}

std::string incident_number_text(const GroupState& state) {
  std::string out = markdown::escape_inline(state.incident_id);
  if (state.pd_number > 0) {
    std::string name = "PagerDuty #" + std::to_string(state.pd_number);
    out += " (" + markdown::link(name, state.pd_url, markdown::escape_inline(name)) + ")";
  }
  return out;
}

}  // namespace calloutd
