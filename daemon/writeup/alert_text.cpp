#include "daemon/writeup/alert_text.hpp"

#include <algorithm>
#include <tuple>

#include "daemon/base/plural.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd {
namespace {

constexpr std::size_t k_max_previous_occurrences = 10;
// The seed's rule: a lone responder hands over within 4 hours.
constexpr auto k_handover_limit = std::chrono::hours{4};

// What tells this alert apart from the rest of its group: `instance=api-2:8080`.
// When the notification holds one alert, every label is common; then the usual
// per-target labels name it.
std::string alert_identity(const AlertGroup& g, const Alert& a) {
  std::string out;
  for (const auto& [k, v] : a.labels) {
    if (k == "alertname" || g.common_labels.contains(k)) {
      continue;
    }
    out += (out.empty() ? "" : ", ") + k + "=" + v;
  }
  for (const char* key : {"instance", "pod", "host", "node"}) {
    auto v = label(a.labels, key);
    if (out.empty() && !v.empty() && !g.group_labels.contains(key)) {
      out = std::string(key) + "=" + v;
    }
  }
  return out;
}

// The dashboard's URL (empty when only the alert source is known) and its link.
std::pair<std::string, std::string> dashboard_link(const AlertGroup& g, const Alert& first,
                                                   const Route* route) {
  for (const char* key : {"dashboard", "dashboard_url", "grafana_url"}) {
    auto v = annotation(g, first, key);
    if (!markdown::safe_url(v).empty()) {
      return {v, markdown::link("Dashboard", v)};
    }
  }
  if (route != nullptr && !route->dashboard_url_template.empty()) {
    Labels labels = g.common_labels;
    labels.insert(first.labels.begin(), first.labels.end());
    auto url = render_url_template(route->dashboard_url_template, labels);
    if (!markdown::safe_url(url).empty()) {
      return {url, markdown::link("Dashboard", url)};
    }
  }
  return {"", markdown::link("Alert source (Prometheus graph)", first.generator_url)};
}

std::string runbook_link(const AlertGroup& g, const Alert& first) {
  for (const char* key : {"runbook_url", "runbook"}) {
    auto v = annotation(g, first, key);
    if (!v.empty()) {
      return markdown::safe_url(v).empty() ? markdown::escape_inline(v)
                                           : markdown::link("Runbook", v);
    }
  }
  return "n/a";
}

std::string source_link(const AlertGroup& g, const Alert& first) {
  if (!markdown::safe_url(first.generator_url).empty()) {
    return markdown::link("Prometheus graph", first.generator_url);
  }
  return markdown::link("Alertmanager", g.external_url);
}

}  // namespace

std::string label(const Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string{} : it->second;
}

// An annotation of the group, else of its first alert.
std::string annotation(const AlertGroup& g, const Alert& first, const std::string& key) {
  auto v = label(g.common_annotations, key);
  return v.empty() ? label(first.annotations, key) : v;
}

std::string alert_name(const AlertGroup& g, const Alert& a) {
  for (const Labels* l : {&a.labels, &g.group_labels, &g.common_labels}) {
    auto v = label(*l, "alertname");
    if (!v.empty()) {
      return v;
    }
  }
  return "alert";
}

std::string describe_alert(const AlertGroup& g, const Alert& a) {
  std::string id = alert_identity(g, a);
  return alert_name(g, a) + (id.empty() ? "" : " (" + id + ")");
}

std::string timeline_line(TimePoint t, const std::string& text, const std::string& source) {
  return format_utc(t) + " - " + source + " - " + markdown::escape_inline(text);
}

std::string technology_for(const AlertGroup& g, const Alert& first, const Route* route) {
  if (route != nullptr && !route->technology.empty()) {
    return route->technology;
  }
  for (const char* key : {"technology", "service", "job"}) {
    auto v = label(g.common_labels, key);
    if (v.empty()) {
      v = label(first.labels, key);
    }
    if (!v.empty()) {
      return technology_slug(v);
    }
  }
  return "unclassified";
}

const Route* route_for(const std::vector<Route>& routes, const std::vector<const Alert*>& alerts) {
  const Route* best = nullptr;
  for (const Alert* a : alerts) {
    for (const auto& r : routes) {
      if (!all_match(r.matchers, a->labels)) {
        continue;
      }
      if (r.severity != Severity::ignore &&
          (best == nullptr || (r.severity == Severity::mpi && best->severity != Severity::mpi))) {
        best = &r;
      }
      break;
    }
  }
  return best;
}

CalloutView callout_view(const AlertGroup& g, const std::vector<const Alert*>& opening,
                         const Route& route, const GroupState& state) {
  const Alert& first = *opening.front();
  CalloutView v;
  std::string summary = annotation(g, first, "summary");
  std::string description = annotation(g, first, "description");
  v.summary_title = summary.empty() ? alert_name(g, first) : summary;
  v.date = format_date(state.opened_at);
  v.incident_number = markdown::escape_inline(state.incident_id);
  v.severity = severity_name(state.severity);
  v.summary = summary.empty() ? alert_name(g, first) + " is firing" : summary;
  if (!description.empty()) {
    v.summary += ". " + description;
  }
  v.status = "active";
  v.opened_at = format_utc(state.opened_at);
  v.handover_due = format_utc(state.opened_at + k_handover_limit);
  v.first_timeline_entry = timeline_line(
      state.opened_at, alert_name(g, first) + " firing (" + std::to_string(opening.size()) +
                           (opening.size() == 1 ? " alert" : " alerts") + "); callout opened as " +
                           v.severity);
  std::tie(v.dashboard_url, v.dashboard) = dashboard_link(g, first, &route);
  v.alert_source = source_link(g, first);
  v.runbook = runbook_link(g, first);
  v.detection = markdown::escape_inline("Alertmanager alert " + alert_name(g, first) +
                                        " (receiver " + g.receiver + ")");
  std::vector<Labels> rows;
  for (const auto& a : g.alerts) {
    if (rows.size() == k_listed_alerts) {
      break;
    }
    rows.push_back(a.labels);
  }
  v.labels_table = labels_table(rows);
  if (g.alerts.size() > rows.size()) {
    v.labels_table += "\n\nAnd " + plural(g.alerts.size() - rows.size(), "further alert") +
                      " (the alert source lists each).";
  }
  return v;
}

std::string previous_occurrences(const std::string& technology,
                                 const std::vector<std::string>& previous) {
  std::string out = previous.empty() ? "n/a" : "";
  for (std::size_t i = 0; i < previous.size() && i < k_max_previous_occurrences; ++i) {
    out += (i ? "\n" : "") + std::string("- [") + technology + "/" + previous[i] + "](../" +
           previous[i] + "/callout.md)";
  }
  return out;
}

}  // namespace calloutd
