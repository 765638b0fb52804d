// The `repository` section of calloutd.yml and its `remote`.
#include <re2/re2.h>

#include <filesystem>
#include <fstream>

#include "daemon/config/reader.hpp"

namespace calloutd::config_detail {
namespace {

namespace fs = std::filesystem;
using Transport = RemoteConfig::Transport;

// A host part that stays on this machine, where plain http cannot leak a token.
bool is_loopback_url(const std::string& url) {
  return RE2::PartialMatch(
      url, R"(^http://(?:[^@/]*@)?(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?/)");
}

// The transport `remote.url` names; an https URL must not carry credentials
// and a plain http one must stay on this machine. `url` is the url's node.
void read_transport(Checker& c, const YAML::Node& url_node, const std::string& path,
                    RemoteConfig& remote) {
  const auto& url = remote.url;
  bool scp_like = RE2::FullMatch(url, R"([A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*)");
  if (url.rfind("ssh://", 0) == 0 || scp_like) {
    remote.transport = Transport::ssh;
  } else if (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) {
    remote.transport = Transport::https;
    if (RE2::PartialMatch(url, R"(^https?://[^/@]*:[^/@]*@)")) {
      c.error(url_node, path + ": must not carry a password or token; put the token in token_file");
    }
    if (url.rfind("http://", 0) == 0 && !is_loopback_url(url)) {
      c.error(url_node, path + ": plain http would send the token in clear; use https");
    }
  } else if (url.rfind("file://", 0) == 0 || (!url.empty() && url.front() == '/')) {
    remote.transport = Transport::local;
  } else {
    c.error(url_node, path + ": \"" + url +
                          "\" is neither ssh://, user@host:path, https:// nor an absolute path");
  }
}

// The remote's optional keys: files (relative to the config), the host key
// policy, the token and the timings.
void read_remote_options(Checker& c, const YAML::Node& node, const std::string& p,
                         RemoteConfig& remote) {
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
  const std::pair<const char*, std::chrono::seconds*> durations[] = {
      {"fetch_interval", &remote.fetch_interval},
      {"max_retry_delay", &remote.max_retry_delay},
      {"connect_timeout", &remote.connect_timeout}};
  for (const auto& [key, out] : durations) {
    if (node[key]) {
      c.duration(node[key], p + "." + key, *out);
    }
  }
  if (node["connect_timeout"] && remote.connect_timeout < std::chrono::seconds(1)) {
    c.error(node["connect_timeout"], p + ".connect_timeout: must be at least 1s");
  }
}

// What each transport needs to authenticate, and what it cannot use.
void check_credentials(Checker& c, const YAML::Node& node, const std::string& p,
                       const RemoteConfig& remote) {
  if (remote.transport == Transport::ssh) {
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
  } else if (remote.transport == Transport::https) {
    if (!node["token_file"]) {
      c.error(node, p + ": an HTTPS remote needs token_file (a token allowed to push)");
    }
    if (node["ssh_key_file"]) {
      c.error(node["ssh_key_file"],
              p + ".ssh_key_file: an HTTPS remote authenticates with token_file");
    }
  }
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
  read_transport(c, node["url"], p + ".url", remote);
  read_remote_options(c, node, p, remote);
  check_credentials(c, node, p, remote);
  if (remote.fetch_interval < std::chrono::seconds(1)) {
    c.error(node["fetch_interval"], p + ".fetch_interval: must be at least 1s");
  }
}

// `repository.maintenance`: git gc's threshold, how often, the size alert's limit.
void read_maintenance(Checker& c, const YAML::Node& node, MaintenanceConfig& m) {
  const std::string p = "repository.maintenance";
  if (!c.mapping(node, p, {"gc_auto", "interval", "size_limit_bytes"})) {
    return;
  }
  if (node["gc_auto"]) {
    c.number(node["gc_auto"], p + ".gc_auto", m.gc_auto, std::size_t{0});
  }
  if (node["interval"]) {
    c.duration(node["interval"], p + ".interval", m.interval);
    if (m.interval < std::chrono::seconds(1)) {
      c.error(node["interval"], p + ".interval: must be at least 1s");
    }
  }
  if (node["size_limit_bytes"]) {
    c.number(node["size_limit_bytes"], p + ".size_limit_bytes", m.size_limit_bytes, std::size_t{1});
  }
}

}  // namespace

void read_repository(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!c.mapping(node, "repository",
                 {"path", "branch", "author_name", "author_email", "journal_dir", "poll_interval",
                  "remote", "maintenance", "state_retention"})) {
    return;
  }
  if (node["state_retention"] && node["state_retention"].IsScalar() &&
      node["state_retention"].as<std::string>() == "forever") {
    cfg.state_retention = std::nullopt;
  } else if (node["state_retention"]) {
    std::chrono::seconds retention = *cfg.state_retention;
    c.duration(node["state_retention"], "repository.state_retention", retention);
    cfg.state_retention = retention;
    if (retention < std::chrono::hours(48)) {
      c.error(node["state_retention"],
              "repository.state_retention: must be at least 48h (PagerDuty redelivers events "
              "for 48 hours; a state pruned sooner would take a redelivery for a new incident)");
    }
  }
  if (node["maintenance"]) {
    read_maintenance(c, node["maintenance"], cfg.maintenance);
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

}  // namespace calloutd::config_detail
