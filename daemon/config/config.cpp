#include "daemon/config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "daemon/config/reader.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using config_detail::Checker;

void read_web_limits(Checker& c, const YAML::Node& node, HttpLimits& limits) {
  const std::pair<const char*, std::chrono::seconds*> timeouts[] = {
      {"read_header_timeout", &limits.header_timeout},
      {"read_body_timeout", &limits.body_timeout},
      {"idle_timeout", &limits.idle_timeout},
      {"write_timeout", &limits.write_timeout}};
  for (const auto& [key, out] : timeouts) {
    if (node[key]) {
      c.duration(node[key], std::string("web.") + key, *out);
      if (*out < std::chrono::seconds(1)) {
        c.error(node[key], std::string("web.") + key + ": must be at least 1s");
      }
    }
  }
  if (node["max_connections"]) {
    c.number(node["max_connections"], "web.max_connections", limits.max_connections,
             std::size_t{1});
  }
  if (node["max_connections_per_client"]) {
    c.number(node["max_connections_per_client"], "web.max_connections_per_client",
             limits.max_connections_per_client, std::size_t{1});
  }
}

void read_web(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!c.mapping(node, "web",
                 {"listen_address", "max_body_bytes", "max_pending_events", "read_header_timeout",
                  "read_body_timeout", "idle_timeout", "write_timeout", "max_connections",
                  "max_connections_per_client", "allow_unauthenticated"})) {
    return;
  }
  if (node["listen_address"]) {
    c.scalar(node["listen_address"], "web.listen_address", cfg.listen_address);
  }
  if (node["max_body_bytes"]) {
    c.number(node["max_body_bytes"], "web.max_body_bytes", cfg.max_body_bytes, std::size_t{1024});
  }
  if (node["max_pending_events"]) {
    c.number(node["max_pending_events"], "web.max_pending_events", cfg.max_pending_events,
             std::size_t{1});
  }
  if (node["allow_unauthenticated"]) {
    c.boolean(node["allow_unauthenticated"], "web.allow_unauthenticated",
              cfg.allow_unauthenticated);
  }
  read_web_limits(c, node, cfg.http);
}

// A section made of durations only: `keys` pairs each key with where it goes.
void read_durations(Checker& c, const YAML::Node& node, const std::string& section,
                    const std::vector<std::pair<std::string, std::chrono::seconds*>>& keys) {
  std::set<std::string> allowed;
  for (const auto& [key, out] : keys) {
    allowed.insert(key);
  }
  if (!c.mapping(node, section, allowed)) {
    return;
  }
  for (const auto& [key, out] : keys) {
    if (node[key]) {
      c.duration(node[key], section + "." + key, *out);
    }
  }
}

void read_templates_dir(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!c.scalar(node, "templates_dir", cfg.templates_dir)) {
    return;
  }
  cfg.templates_dir = c.resolve_path(cfg.templates_dir);
  if (!fs::is_directory(cfg.templates_dir)) {
    c.error(node, "templates_dir: \"" + cfg.templates_dir + "\" is not a directory");
  }
}

// response_targets: {MPI: {acknowledge, resolve}, HPI: {...}}.
void read_response_targets(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!c.mapping(node, "response_targets", {"MPI", "HPI"})) {
    return;
  }
  for (auto [name, target] : {std::pair{"MPI", &cfg.mpi_target}, {"HPI", &cfg.hpi_target}}) {
    if (node[name]) {
      const std::string section = std::string("response_targets.") + name;
      read_durations(c, node[name], section,
                     {{"acknowledge", &target->acknowledge}, {"resolve", &target->resolve}});
    }
  }
}

// The top-level sections, in the order they are read.
void read_sections(Checker& c, const YAML::Node& root, Config& cfg) {
  const std::set<std::string> k_sections{"web",    "repository", "receivers",
                                         "routes", "incidents",  "templates_dir",
                                         "shifts", "rota",       "response_targets"};
  if (!c.mapping(root, "", k_sections)) {
    return;
  }
  if (root["web"]) {
    read_web(c, root["web"], cfg);
  }
  if (root["repository"]) {
    config_detail::read_repository(c, root["repository"], cfg);
  }
  if (root["receivers"]) {
    config_detail::read_receivers(c, root["receivers"], cfg);
  }
  if (root["routes"]) {
    config_detail::read_routes(c, root["routes"], cfg);
  }
  if (root["shifts"]) {
    read_durations(c, root["shifts"], "shifts",
                   {{"work_limit", &cfg.shifts.work_limit},
                    {"warning_lead", &cfg.shifts.warning_lead},
                    {"short_break", &cfg.shifts.short_break}});
  }
  if (root["rota"]) {
    config_detail::read_rotas(c, root["rota"], cfg);
  }
  if (root["incidents"]) {
    read_durations(c, root["incidents"], "incidents",
                   {{"reopen_window", &cfg.reopen_window},
                    {"postmortem_overdue_after", &cfg.postmortem_overdue_after}});
  }
  if (root["templates_dir"]) {
    read_templates_dir(c, root["templates_dir"], cfg);
  }
  if (root["response_targets"]) {
    read_response_targets(c, root["response_targets"], cfg);
  }
}

}  // namespace

std::string severity_name(Severity s) {
  switch (s) {
    case Severity::mpi:
      return "MPI";
    case Severity::hpi:
      return "HPI";
    case Severity::ignore:
      return "ignore";
  }
  return "HPI";
}

std::vector<Route> Config::default_routes() {
  Route mpi{*parse_matchers(R"(severity=~"critical|page")"), Severity::mpi, "", "", "default MPI"};
  Route hpi{*parse_matchers(R"(severity=~"error|high|major")"), Severity::hpi, "", "",
            "default HPI"};
  return {mpi, hpi};
}

std::vector<Route> PagerDutyConfig::default_routes() {
  Route all;
  all.name = "default PagerDuty";
  all.severity_from_map = true;
  return {all};
}

std::string Config::effective_journal_dir() const {
  return journal_dir.empty() ? (fs::path(repo_path) / ".git" / "calloutd").string() : journal_dir;
}

LoadedConfig parse_config(const std::string& text, const std::string& source,
                          const std::string& base_dir) {
  LoadedConfig out;
  out.config.source = source;
  Checker c(source, base_dir);
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsNull()) {  // an empty file means every default
      read_sections(c, root, out.config);
    }
  } catch (const YAML::Exception& e) {
    c.error_at(e.mark.line + 1, "invalid YAML: " + e.msg);
  }
  out.errors = c.sorted_errors();
  out.known_keys = c.known_keys();
  return out;
}

LoadedConfig load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedConfig out;
    out.errors.push_back(path + ":0: cannot read the config file");
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto base = fs::absolute(path).parent_path().string();
  return parse_config(ss.str(), path, base);
}

}  // namespace calloutd
