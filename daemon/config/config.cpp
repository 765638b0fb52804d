#include "daemon/config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "daemon/base/duration.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/text/untrusted_text.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;

// Collects errors with the file and line of the node they concern.
class Checker {
 public:
  Checker(std::string source, std::string base_dir)
      : m_source(std::move(source)), m_base_dir(std::move(base_dir)) {}

  void error(const YAML::Node& node, const std::string& message) {
    int line = node.IsDefined() ? node.Mark().line + 1 : 0;
    error_at(line, message);
  }
  void error_at(int line, const std::string& message) { m_errors.emplace_back(line, message); }

  // `FILE:LINE: message`, in file order as a compiler reports them.
  std::vector<std::string> sorted_errors() const {
    auto errors = m_errors;
    std::stable_sort(errors.begin(), errors.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (const auto& [line, message] : errors) {
      out.push_back(m_source + ":" + std::to_string(line) + ": " + message);
    }
    return out;
  }

  // A mapping whose keys are all in `allowed`; unknown keys are errors.
  bool mapping(const YAML::Node& node, const std::string& path,
               const std::set<std::string>& allowed) {
    if (node.IsNull()) {
      return false;  // a key with only comments under it: all defaults
    }
    if (!node.IsMap()) {
      error(node, path + ": expected a mapping");
      return false;
    }
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        error(kv.first, (path.empty() ? "" : path + ": ") + "keys must be plain strings");
        continue;
      }
      auto key = kv.first.as<std::string>();
      if (!allowed.contains(key)) {
        error(kv.first, path + (path.empty() ? "" : ".") + key + ": unknown key \"" + key + "\"");
      }
    }
    return true;
  }

  bool scalar(const YAML::Node& node, const std::string& path, std::string& out) {
    if (!node.IsScalar()) {
      error(node, path + ": expected a string");
      return false;
    }
    out = node.as<std::string>();
    return true;
  }

  template <typename Int>
  void number(const YAML::Node& node, const std::string& path, Int& out, Int min) {
    std::string text;
    if (!scalar(node, path, text)) {
      return;
    }
    try {
      std::size_t used = 0;
      long long v = std::stoll(text, &used);
      if (used != text.size() || v < static_cast<long long>(min)) {
        throw std::invalid_argument(text);
      }
      out = static_cast<Int>(v);
    } catch (const std::exception&) {
      error(node, path + ": \"" + text + "\" is not an integer >= " + std::to_string(min));
    }
  }

  void duration(const YAML::Node& node, const std::string& path, std::chrono::seconds& out) {
    std::string text;
    if (!scalar(node, path, text)) {
      return;
    }
    auto d = parse_duration(text);
    if (!d) {
      error(node, path + ": " + d.error());
    } else {
      out = *d;
    }
  }

  void boolean(const YAML::Node& node, const std::string& path, bool& out) {
    std::string text;
    if (!scalar(node, path, text)) {
      return;
    }
    if (text != "true" && text != "false") {
      error(node, path + ": \"" + text + "\" is not true or false");
      return;
    }
    out = text == "true";
  }

  // Reads a secret from a file named in the config (trailing newline dropped).
  void secret_file(const YAML::Node& node, const std::string& path, std::string& out) {
    std::string name;
    if (!scalar(node, path, name)) {
      return;
    }
    fs::path p = fs::path(name).is_absolute() ? fs::path(name) : fs::path(m_base_dir) / name;
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      error(node, path + ": cannot read \"" + p.string() + "\"");
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
      out.pop_back();
    }
    if (out.empty()) {
      error(node, path + ": \"" + p.string() + "\" is empty");
    }
  }

  std::string resolve_path(const std::string& value) const {
    if (value.empty() || fs::path(value).is_absolute()) {
      return value;
    }
    return (fs::path(m_base_dir) / value).lexically_normal().string();
  }

 private:
  std::string m_source;
  std::string m_base_dir;
  std::vector<std::pair<int, std::string>> m_errors;
};

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

// A host part that stays on this machine, where plain http cannot leak a token.
bool is_loopback_url(const std::string& url) {
  return RE2::PartialMatch(
      url, R"(^http://(?:[^@/]*@)?(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?/)");
}

void read_remote(Checker& c, const YAML::Node& node, RemoteConfig& remote) {
  const std::string p = "repository.remote";
  if (!c.mapping(
          node, p,
          {"url", "ssh_key_file", "known_hosts_file", "accept_new_host_key", "token_file",
           "token_username", "ca_file", "fetch_interval", "connect_timeout", "max_retry_delay"})) {
    return;
  }
  if (!node["url"]) {
    c.error(node, p + ": needs a url");
    return;
  }
  c.scalar(node["url"], p + ".url", remote.url);
  const auto& url = remote.url;
  bool scp_like = RE2::FullMatch(url, R"([A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*)");
  if (url.rfind("ssh://", 0) == 0 || scp_like) {
    remote.transport = RemoteConfig::Transport::ssh;
  } else if (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) {
    remote.transport = RemoteConfig::Transport::https;
    if (RE2::PartialMatch(url, R"(^https?://[^/@]*:[^/@]*@)")) {
      c.error(node["url"],
              p + ".url: must not carry a password or token; put the token in token_file");
    }
    if (url.rfind("http://", 0) == 0 && !is_loopback_url(url)) {
      c.error(node["url"], p + ".url: plain http would send the token in clear; use https");
    }
  } else if (url.rfind("file://", 0) == 0 || url.front() == '/') {
    remote.transport = RemoteConfig::Transport::local;
  } else {
    c.error(node["url"], p + ".url: \"" + url +
                             "\" is neither ssh://, user@host:path, https:// nor an absolute path");
  }
  auto file = [&](const char* key, std::string& out) {
    if (node[key]) {
      c.scalar(node[key], p + "." + key, out);
      out = c.resolve_path(out);
    }
  };
  file("ssh_key_file", remote.ssh_key_file);
  file("known_hosts_file", remote.known_hosts_file);
  file("ca_file", remote.ca_file);
  if (!remote.ca_file.empty() && !std::ifstream(remote.ca_file)) {
    c.error(node["ca_file"], p + ".ca_file: cannot read \"" + remote.ca_file + "\"");
  }
  if (node["accept_new_host_key"]) {
    std::string v;
    c.scalar(node["accept_new_host_key"], p + ".accept_new_host_key", v);
    if (v != "true" && v != "false") {
      c.error(node["accept_new_host_key"], p + ".accept_new_host_key: expected true or false");
    }
    remote.accept_new_host_key = v == "true";
  }
  if (node["token_file"]) {
    c.secret_file(node["token_file"], p + ".token_file", remote.token);
  }
  if (node["token_username"]) {
    c.scalar(node["token_username"], p + ".token_username", remote.token_username);
  }
  if (node["fetch_interval"]) {
    c.duration(node["fetch_interval"], p + ".fetch_interval", remote.fetch_interval);
  }
  if (node["max_retry_delay"]) {
    c.duration(node["max_retry_delay"], p + ".max_retry_delay", remote.max_retry_delay);
  }
  if (node["connect_timeout"]) {
    c.duration(node["connect_timeout"], p + ".connect_timeout", remote.connect_timeout);
    if (remote.connect_timeout < std::chrono::seconds(1)) {
      c.error(node["connect_timeout"], p + ".connect_timeout: must be at least 1s");
    }
  }
  using T = RemoteConfig::Transport;
  if (remote.transport == T::ssh) {
    if (remote.ssh_key_file.empty()) {
      c.error(node, p + ": an SSH remote needs ssh_key_file (a deploy key with write access)");
    } else if (std::ifstream key(remote.ssh_key_file); !key) {
      c.error(node["ssh_key_file"],
              p + ".ssh_key_file: cannot read \"" + remote.ssh_key_file + "\"");
    }
    if (remote.known_hosts_file.empty()) {
      c.error(node, p + ": an SSH remote needs known_hosts_file (the server's host keys)");
    } else if (!remote.accept_new_host_key && !fs::exists(remote.known_hosts_file)) {
      c.error(node["known_hosts_file"],
              p + ".known_hosts_file: \"" + remote.known_hosts_file +
                  "\" does not exist (create it with ssh-keyscan and check the fingerprints, or "
                  "set accept_new_host_key: true)");
    }
    if (node["token_file"]) {
      c.error(node["token_file"], p + ".token_file: an SSH remote authenticates with ssh_key_file");
    }
  } else if (remote.transport == T::https) {
    if (!node["token_file"]) {
      c.error(node, p + ": an HTTPS remote needs token_file (a token allowed to push)");
    }
    if (node["ssh_key_file"]) {
      c.error(node["ssh_key_file"],
              p + ".ssh_key_file: an HTTPS remote authenticates with token_file");
    }
  }
  if (remote.fetch_interval < std::chrono::seconds(1)) {
    c.error(node["fetch_interval"], p + ".fetch_interval: must be at least 1s");
  }
}

void read_repository(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!c.mapping(node, "repository",
                 {"path", "branch", "author_name", "author_email", "journal_dir", "poll_interval",
                  "remote"})) {
    return;
  }
  if (node["remote"]) {
    read_remote(c, node["remote"], cfg.remote);
  }
  if (node["poll_interval"]) {
    std::chrono::seconds poll{2};
    c.duration(node["poll_interval"], "repository.poll_interval", poll);
    cfg.poll_interval = std::chrono::duration_cast<std::chrono::milliseconds>(poll);
  }
  // The repository and journal paths are relative to the working directory,
  // as the --repo.path flag is; files the config reads are relative to it.
  if (node["path"]) {
    c.scalar(node["path"], "repository.path", cfg.repo_path);
  }
  if (node["branch"]) {
    c.scalar(node["branch"], "repository.branch", cfg.branch);
    if (!RE2::FullMatch(cfg.branch, R"([A-Za-z0-9._/-]+)") ||
        cfg.branch.find("..") != std::string::npos) {
      c.error(node["branch"],
              "repository.branch: \"" + cfg.branch + "\" is not a valid branch name");
    }
  }
  if (node["author_name"]) {
    c.scalar(node["author_name"], "repository.author_name", cfg.author_name);
  }
  if (node["author_email"]) {
    c.scalar(node["author_email"], "repository.author_email", cfg.author_email);
  }
  if (node["journal_dir"]) {
    c.scalar(node["journal_dir"], "repository.journal_dir", cfg.journal_dir);
  }
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

enum class RouteKind { alertmanager, pagerduty };
void read_route(Checker& c, const YAML::Node& node, const std::string& path, Route& route,
                RouteKind kind);

std::optional<Severity> severity_value(const std::string& v) {
  if (v == "MPI" || v == "mpi")
    return Severity::mpi;
  if (v == "HPI" || v == "hpi")
    return Severity::hpi;
  if (v == "ignore")
    return Severity::ignore;
  return std::nullopt;
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
  if (auto v = node["allow_unsigned"]) {
    std::string text;
    if (c.scalar(v, p + ".allow_unsigned", text)) {
      if (text != "true" && text != "false") {
        c.error(v, p + ".allow_unsigned: \"" + text + "\" is not true or false");
      }
      pd.allow_unsigned = text == "true";
    }
  }
  if (!node["signing_secret_files"] && !pd.allow_unsigned) {
    c.error(node, p + ": needs signing_secret_files (or allow_unsigned: true, to accept unsigned "
                      "deliveries)");
  }
  if (node["max_body_bytes"]) {
    c.number(node["max_body_bytes"], p + ".max_body_bytes", pd.max_body_bytes, std::size_t{1024});
  }
  if (auto map = node["severity_map"]) {
    if (c.mapping(map, p + ".severity_map", {"P1", "P2", "P3", "P4", "P5", "high", "low"})) {
      pd.severity_map.clear();
      for (const auto& kv : map) {
        std::string v;
        if (c.scalar(kv.second, p + ".severity_map." + kv.first.as<std::string>(), v)) {
          auto sev = severity_value(v);
          if (!sev) {
            c.error(kv.second, p + ".severity_map." + kv.first.as<std::string>() + ": \"" + v +
                                   "\" is not one of MPI, HPI, ignore");
          } else {
            pd.severity_map[kv.first.as<std::string>()] = *sev;
          }
        }
      }
    }
  }
  if (auto services = node["services"]) {
    if (!services.IsMap()) {
      c.error(services, p + ".services: expected a mapping of service id or name to technology");
    } else {
      for (const auto& kv : services) {
        std::string tech;
        if (kv.first.IsScalar() && c.scalar(kv.second, p + ".services", tech)) {
          pd.services[kv.first.as<std::string>()] = technology_slug(tech);
        }
      }
    }
  }
  if (auto routes = node["routes"]) {
    if (!routes.IsSequence()) {
      c.error(routes, p + ".routes: expected a list of routes");
      return;
    }
    pd.routes.clear();
    for (std::size_t i = 0; i < routes.size(); ++i) {
      Route route;
      read_route(c, routes[i], p + ".routes[" + std::to_string(i) + "]", route,
                 RouteKind::pagerduty);
      pd.routes.push_back(std::move(route));
    }
  }
}

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
    std::string v;
    if (c.scalar(node["require_signature"], path + ".require_signature", v)) {
      route.require_signature = v == "true";
      if (v != "true" && v != "false") {
        c.error(node["require_signature"],
                path + ".require_signature: \"" + v + "\" is not true or false");
      }
    }
  }
  if (auto matchers = node["matchers"]) {
    if (!matchers.IsSequence()) {
      c.error(matchers, path + ".matchers: expected a list of matchers");
    } else {
      for (std::size_t i = 0; i < matchers.size(); ++i) {
        std::string text;
        std::string mp = path + ".matchers[" + std::to_string(i) + "]";
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
  }
  std::string severity;
  if (!node["severity"] && kind == RouteKind::pagerduty) {
    route.severity_from_map = true;
  } else if (!node["severity"]) {
    c.error(node, path + ": missing severity (MPI, HPI or ignore)");
  } else if (c.scalar(node["severity"], path + ".severity", severity)) {
    if (severity == "MPI" || severity == "mpi") {
      route.severity = Severity::mpi;
    } else if (severity == "HPI" || severity == "hpi") {
      route.severity = Severity::hpi;
    } else if (severity == "ignore") {
      route.severity = Severity::ignore;
    } else {
      c.error(node["severity"],
              path + ".severity: \"" + severity + "\" is not one of MPI, HPI, ignore");
    }
  }
  if (node["technology"]) {
    std::string tech;
    if (c.scalar(node["technology"], path + ".technology", tech)) {
      route.technology = technology_slug(tech);
      if (route.technology != tech) {
        c.error(node["technology"], path + ".technology: \"" + tech + "\" is not a slug (use \"" +
                                        route.technology + "\")");
      }
    }
  }
  if (node["dashboard_url_template"]) {
    c.scalar(node["dashboard_url_template"], path + ".dashboard_url_template",
             route.dashboard_url_template);
  }
}

void read_routes(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!node.IsSequence()) {
    c.error(node, "routes: expected a list of routes");
    return;
  }
  cfg.routes.clear();
  for (std::size_t i = 0; i < node.size(); ++i) {
    Route route;
    read_route(c, node[i], "routes[" + std::to_string(i) + "]", route, RouteKind::alertmanager);
    cfg.routes.push_back(std::move(route));
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

// A list of people's names (non-empty strings, no duplicates).
std::vector<std::string> read_people(Checker& c, const YAML::Node& node, const std::string& path) {
  std::vector<std::string> people;
  if (!node.IsSequence() || node.size() == 0) {
    c.error(node, path + ": expected a non-empty list of names");
    return people;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string name;
    auto item = path + "[" + std::to_string(i) + "]";
    if (!c.scalar(node[i], item, name)) {
      continue;
    }
    if (name.find_first_of("\n\r") != std::string::npos || normalise_person_name(name).empty()) {
      c.error(node[i], item + ": expected a name on one line");
    } else {
      people.push_back(normalise_person_name(name));  // as every name the engine compares
    }
  }
  return people;
}

void read_rota(Checker& c, const YAML::Node& node, const std::string& path, Rota& rota) {
  if (!c.mapping(node, path,
                 {"name", "technologies", "time_zone", "start", "handover_at", "every", "primary",
                  "secondary"})) {
    return;
  }
  if (!node["name"]) {
    c.error(node, path + ": missing name");
  } else {
    c.scalar(node["name"], path + ".name", rota.name);
  }
  if (auto techs = node["technologies"]) {
    if (!techs.IsSequence()) {
      c.error(techs, path + ".technologies: expected a list of technology slugs");
    } else {
      for (std::size_t i = 0; i < techs.size(); ++i) {
        std::string tech;
        auto item = path + ".technologies[" + std::to_string(i) + "]";
        if (c.scalar(techs[i], item, tech)) {
          if (technology_slug(tech) != tech) {
            c.error(techs[i], item + ": \"" + tech + "\" is not a slug (use \"" +
                                  technology_slug(tech) + "\")");
          }
          rota.technologies.push_back(tech);
        }
      }
    }
  }
  std::string text;
  if (node["time_zone"] && c.scalar(node["time_zone"], path + ".time_zone", text)) {
    auto zone = TimeZone::load(text);
    if (!zone) {
      c.error(node["time_zone"], path + ".time_zone: " + zone.error());
    } else {
      rota.zone = *zone;
    }
  }
  if (!node["start"]) {
    c.error(node, path + ": missing start (the YYYY-MM-DD the first person's turn begins)");
  } else if (c.scalar(node["start"], path + ".start", text)) {
    auto t = parse_timeline_time(text + " 00:00");
    if (text.size() != 10 || !t) {
      c.error(node["start"], path + ".start: \"" + text + "\" is not a date (YYYY-MM-DD)");
    } else {
      rota.start =
          std::chrono::local_days{std::chrono::floor<std::chrono::days>(*t).time_since_epoch()};
    }
  }
  if (node["handover_at"] && c.scalar(node["handover_at"], path + ".handover_at", text)) {
    auto t = parse_timeline_time("2000-01-01 " + text);
    if (text.size() != 5 || !t) {
      c.error(node["handover_at"],
              path + ".handover_at: \"" + text + "\" is not a time of day (HH:MM)");
    } else {
      rota.handover_at = std::chrono::duration_cast<std::chrono::seconds>(
          *t - std::chrono::floor<std::chrono::days>(*t));
    }
  }
  if (node["every"]) {
    std::chrono::seconds every{0};
    c.duration(node["every"], path + ".every", every);
    if (every.count() > 0 && every.count() % 86400 == 0) {
      rota.every_days = static_cast<int>(every.count() / 86400);
    } else if (every.count() != 0) {
      c.error(node["every"], path + ".every: a rota turns in whole days (1d, 7d, 14d)");
    }
  }
  if (!node["primary"]) {
    c.error(node, path + ": missing primary (the people who take Operations in turn)");
  } else {
    rota.primary = read_people(c, node["primary"], path + ".primary");
  }
  if (node["secondary"]) {
    rota.secondary = read_people(c, node["secondary"], path + ".secondary");
  }
}

void read_rotas(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!node.IsSequence()) {
    c.error(node, "rota: expected a list of rotas");
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    Rota rota;
    read_rota(c, node[i], "rota[" + std::to_string(i) + "]", rota);
    cfg.rotas.push_back(std::move(rota));
  }
}

// The top-level sections, in the order they are read.
void read_sections(Checker& c, const YAML::Node& root, Config& cfg) {
  const std::set<std::string> k_sections{"web",       "repository",    "receivers", "routes",
                                         "incidents", "templates_dir", "shifts",    "rota"};
  if (!c.mapping(root, "", k_sections)) {
    return;
  }
  if (root["web"]) {
    read_web(c, root["web"], cfg);
  }
  if (root["repository"]) {
    read_repository(c, root["repository"], cfg);
  }
  if (root["receivers"]) {
    read_receivers(c, root["receivers"], cfg);
  }
  if (root["routes"]) {
    read_routes(c, root["routes"], cfg);
  }
  if (auto shifts = root["shifts"]) {
    if (c.mapping(shifts, "shifts", {"work_limit", "warning_lead", "short_break"})) {
      if (shifts["work_limit"])
        c.duration(shifts["work_limit"], "shifts.work_limit", cfg.shifts.work_limit);
      if (shifts["warning_lead"])
        c.duration(shifts["warning_lead"], "shifts.warning_lead", cfg.shifts.warning_lead);
      if (shifts["short_break"])
        c.duration(shifts["short_break"], "shifts.short_break", cfg.shifts.short_break);
    }
  }
  if (root["rota"]) {
    read_rotas(c, root["rota"], cfg);
  }
  if (auto inc = root["incidents"]) {
    if (c.mapping(inc, "incidents", {"reopen_window", "postmortem_overdue_after"})) {
      if (inc["reopen_window"]) {
        c.duration(inc["reopen_window"], "incidents.reopen_window", cfg.reopen_window);
      }
      if (inc["postmortem_overdue_after"]) {
        c.duration(inc["postmortem_overdue_after"], "incidents.postmortem_overdue_after",
                   cfg.postmortem_overdue_after);
      }
    }
  }
  if (root["templates_dir"] &&
      c.scalar(root["templates_dir"], "templates_dir", cfg.templates_dir)) {
    cfg.templates_dir = c.resolve_path(cfg.templates_dir);
    if (!fs::is_directory(cfg.templates_dir)) {
      c.error(root["templates_dir"],
              "templates_dir: \"" + cfg.templates_dir + "\" is not a directory");
    }
  }
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
