// The `receivers` section of calloutd.yml (credentials, PagerDuty) and the
// `routes` both receivers use.
#include <optional>

#include "daemon/config/reader.hpp"
#include "daemon/text/slug.hpp"

namespace calloutd::config_detail {
namespace {

enum class RouteKind { alertmanager, pagerduty };

std::optional<Severity> severity_value(const std::string& v) {
  if (v == "MPI" || v == "mpi") {
    return Severity::mpi;
  }
  if (v == "HPI" || v == "hpi") {
    return Severity::hpi;
  }
  if (v == "ignore") {
    return Severity::ignore;
  }
  return std::nullopt;
}

void read_auth(Checker& c, const YAML::Node& node, const std::string& path, ReceiverAuth& auth) {
  if (!c.mapping(node, path, {"bearer_token_file", "basic_auth"})) {
    return;
  }
  if (node["bearer_token_file"]) {
    c.secret_file(node["bearer_token_file"], path + ".bearer_token_file", auth.bearer_token);
  }
  if (auto basic = node["basic_auth"]) {
    std::string p = path + ".basic_auth";
    if (c.mapping(basic, p, {"username", "password_file"})) {
      BasicAuth b;
      if (!basic["username"] || !basic["password_file"]) {
        c.error(basic, p + ": needs both username and password_file");
        return;
      }
      c.scalar(basic["username"], p + ".username", b.username);
      c.secret_file(basic["password_file"], p + ".password_file", b.password);
      auth.basic.push_back(b);
    }
  }
}

// `matchers`: a list of Alertmanager matcher strings, all added to the route.
void read_matchers(Checker& c, const YAML::Node& matchers, const std::string& path, Route& route) {
  if (!matchers.IsSequence()) {
    c.error(matchers, path + ": expected a list of matchers");
    return;
  }
  for (std::size_t i = 0; i < matchers.size(); ++i) {
    std::string text;
    std::string mp = path + "[" + std::to_string(i) + "]";
    if (!c.scalar(matchers[i], mp, text)) {
      continue;
    }
    auto parsed = parse_matchers(text);
    if (!parsed) {
      c.error(matchers[i], mp + ": " + parsed.error());
    } else {
      route.matchers.insert(route.matchers.end(), parsed->begin(), parsed->end());
    }
  }
}

// A route's severity; a PagerDuty route without one takes it from the map.
void read_route_severity(Checker& c, const YAML::Node& node, const std::string& path, Route& route,
                         RouteKind kind) {
  std::string severity;
  if (!node["severity"] && kind == RouteKind::pagerduty) {
    route.severity_from_map = true;
  } else if (!node["severity"]) {
    c.error(node, path + ": missing severity (MPI, HPI or ignore)");
  } else if (c.scalar(node["severity"], path + ".severity", severity)) {
    if (auto value = severity_value(severity)) {
      route.severity = *value;
    } else {
      c.error(node["severity"],
              path + ".severity: \"" + severity + "\" is not one of MPI, HPI, ignore");
    }
  }
}

void read_route(Checker& c, const YAML::Node& node, const std::string& path, Route& route,
                RouteKind kind) {
  route.name = path;
  std::set<std::string> keys{"matchers", "severity", "technology", "dashboard_url_template"};
  if (kind == RouteKind::pagerduty) {
    keys.insert("require_signature");
  }
  if (!c.mapping(node, path, keys)) {
    return;
  }
  if (kind == RouteKind::pagerduty && node["require_signature"]) {
    c.boolean(node["require_signature"], path + ".require_signature", route.require_signature);
  }
  if (auto matchers = node["matchers"]) {
    read_matchers(c, matchers, path + ".matchers", route);
  }
  read_route_severity(c, node, path, route, kind);
  std::string tech;
  if (node["technology"] && c.scalar(node["technology"], path + ".technology", tech)) {
    route.technology = technology_slug(tech);
    if (route.technology != tech) {
      c.error(node["technology"], path + ".technology: \"" + tech + "\" is not a slug (use \"" +
                                      route.technology + "\")");
    }
  }
  if (node["dashboard_url_template"]) {
    c.scalar(node["dashboard_url_template"], path + ".dashboard_url_template",
             route.dashboard_url_template);
  }
}

// A list of routes at `path`, replacing `routes` (the defaults).
void read_route_list(Checker& c, const YAML::Node& node, const std::string& path, RouteKind kind,
                     std::vector<Route>& routes) {
  if (!node.IsSequence()) {
    c.error(node, path + ": expected a list of routes");
    return;
  }
  routes.clear();
  for (std::size_t i = 0; i < node.size(); ++i) {
    Route route;
    read_route(c, node[i], path + "[" + std::to_string(i) + "]", route, kind);
    routes.push_back(std::move(route));
  }
}

// The signing secrets, or the explicit choice to accept unsigned deliveries.
void read_signing(Checker& c, const YAML::Node& node, const std::string& p, PagerDutyConfig& pd) {
  if (auto files = node["signing_secret_files"]) {
    if (!files.IsSequence()) {
      c.error(files, p + ".signing_secret_files: expected a list of files");
    } else {
      for (std::size_t i = 0; i < files.size(); ++i) {
        std::string secret;
        c.secret_file(files[i], p + ".signing_secret_files[" + std::to_string(i) + "]", secret);
        if (!secret.empty()) {
          pd.secrets.push_back(secret);
        }
      }
    }
  }
  if (node["allow_unsigned"]) {
    c.boolean(node["allow_unsigned"], p + ".allow_unsigned", pd.allow_unsigned);
  }
  if (!node["signing_secret_files"] && !pd.allow_unsigned) {
    c.error(node, p + ": needs signing_secret_files (or allow_unsigned: true, to accept unsigned "
                      "deliveries)");
  }
}

// Priority or urgency -> severity; a map given replaces the default one.
void read_severity_map(Checker& c, const YAML::Node& map, const std::string& path,
                       std::map<std::string, Severity>& out) {
  if (!c.mapping(map, path, {"P1", "P2", "P3", "P4", "P5", "high", "low"})) {
    return;
  }
  out.clear();
  for (const auto& kv : map) {
    std::string v;
    auto key = kv.first.as<std::string>();
    if (!c.scalar(kv.second, path + "." + key, v)) {
      continue;
    }
    if (auto sev = severity_value(v)) {
      out[key] = *sev;
    } else {
      c.error(kv.second, path + "." + key + ": \"" + v + "\" is not one of MPI, HPI, ignore");
    }
  }
}

// PagerDuty service id or name -> technology slug.
void read_services(Checker& c, const YAML::Node& services, const std::string& path,
                   std::map<std::string, std::string>& out) {
  if (!services.IsMap()) {
    c.error(services, path + ": expected a mapping of service id or name to technology");
    return;
  }
  for (const auto& kv : services) {
    std::string tech;
    if (kv.first.IsScalar() && c.scalar(kv.second, path, tech)) {
      out[kv.first.as<std::string>()] = technology_slug(tech);
    }
  }
}

void read_pagerduty(Checker& c, const YAML::Node& node, PagerDutyConfig& pd) {
  const std::string p = "receivers.pagerduty";
  pd.enabled = true;
  if (!c.mapping(node, p,
                 {"signing_secret_files", "allow_unsigned", "max_body_bytes", "severity_map",
                  "services", "routes"})) {
    if (node.IsNull()) {
      c.error(node, p + ": needs signing_secret_files (or allow_unsigned: true, to accept unsigned "
                        "deliveries)");
    }
    return;
  }
  read_signing(c, node, p, pd);
  if (node["max_body_bytes"]) {
    c.number(node["max_body_bytes"], p + ".max_body_bytes", pd.max_body_bytes, std::size_t{1024});
  }
  if (auto map = node["severity_map"]) {
    read_severity_map(c, map, p + ".severity_map", pd.severity_map);
  }
  if (auto services = node["services"]) {
    read_services(c, services, p + ".services", pd.services);
  }
  if (auto routes = node["routes"]) {
    read_route_list(c, routes, p + ".routes", RouteKind::pagerduty, pd.routes);
  }
}

}  // namespace

void read_receivers(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!c.mapping(node, "receivers", {"alertmanager", "pagerduty", "authenticate_reads"})) {
    return;
  }
  if (node["authenticate_reads"]) {
    c.boolean(node["authenticate_reads"], "receivers.authenticate_reads", cfg.authenticate_reads);
  }
  if (node["alertmanager"]) {
    read_auth(c, node["alertmanager"], "receivers.alertmanager", cfg.alertmanager_auth);
  }
  if (node["pagerduty"]) {
    read_pagerduty(c, node["pagerduty"], cfg.pagerduty);
  }
  if (cfg.authenticate_reads && !cfg.alertmanager_auth.enabled()) {
    c.error(node["authenticate_reads"],
            "receivers.authenticate_reads: needs credentials in receivers.alertmanager "
            "(the reads ask for the same)");
  }
}

void read_routes(Checker& c, const YAML::Node& node, Config& cfg) {
  read_route_list(c, node, "routes", RouteKind::alertmanager, cfg.routes);
}

}  // namespace calloutd::config_detail
