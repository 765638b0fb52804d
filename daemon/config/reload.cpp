#include "daemon/config/reload.hpp"

namespace calloutd {
namespace {

// The restart-only settings of `a` and `b` in pairs, each with the key that
// names it in calloutd.yml (or the flag).
template <typename A, typename B, typename Visit>
void each_restart_only(A& a, B& b, Visit&& visit) {
  visit("web.listen_address (--web.listen-address)", a.listen_address, b.listen_address);
  visit("web.read_header_timeout", a.http.header_timeout, b.http.header_timeout);
  visit("web.read_body_timeout", a.http.body_timeout, b.http.body_timeout);
  visit("web.idle_timeout", a.http.idle_timeout, b.http.idle_timeout);
  visit("web.write_timeout", a.http.write_timeout, b.http.write_timeout);
  visit("web.max_connections", a.http.max_connections, b.http.max_connections);
  visit("web.max_connections_per_client", a.http.max_connections_per_client,
        b.http.max_connections_per_client);
  visit("web.max_pending_events", a.max_pending_events, b.max_pending_events);
  visit("repository.path (--repo.path)", a.repo_path, b.repo_path);
  visit("repository.branch", a.branch, b.branch);
  visit("repository.author_name", a.author_name, b.author_name);
  visit("repository.author_email", a.author_email, b.author_email);
  visit("repository.journal_dir", a.journal_dir, b.journal_dir);
  visit("repository.poll_interval", a.poll_interval, b.poll_interval);
  visit("repository.maintenance.gc_auto", a.maintenance.gc_auto, b.maintenance.gc_auto);
  visit("repository.maintenance.interval", a.maintenance.interval, b.maintenance.interval);
  visit("repository.maintenance.size_limit_bytes", a.maintenance.size_limit_bytes,
        b.maintenance.size_limit_bytes);
  visit("repository.remote.url", a.remote.url, b.remote.url);
  visit("repository.remote.ssh_key_file", a.remote.ssh_key_file, b.remote.ssh_key_file);
  visit("repository.remote.known_hosts_file", a.remote.known_hosts_file, b.remote.known_hosts_file);
  visit("repository.remote.accept_new_host_key", a.remote.accept_new_host_key,
        b.remote.accept_new_host_key);
  visit("repository.remote.token_file", a.remote.token, b.remote.token);
  visit("repository.remote.token_username", a.remote.token_username, b.remote.token_username);
  visit("repository.remote.ca_file", a.remote.ca_file, b.remote.ca_file);
  visit("repository.remote.fetch_interval", a.remote.fetch_interval, b.remote.fetch_interval);
  visit("repository.remote.connect_timeout", a.remote.connect_timeout, b.remote.connect_timeout);
  visit("repository.remote.max_retry_delay", a.remote.max_retry_delay, b.remote.max_retry_delay);
}

}  // namespace

std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded) {
  std::vector<std::string> changed;
  each_restart_only(running, loaded, [&](const char* key, const auto& was, const auto& is) {
    if (!(was == is)) {
      changed.emplace_back(key);
    }
  });
  return changed;
}

Config keep_restart_only(const Config& running, Config loaded) {
  each_restart_only(running, loaded, [](const char*, const auto& was, auto& is) { is = was; });
  return loaded;
}

std::vector<std::string> restart_only_keys() {
  std::vector<std::string> keys;
  Config a;
  Config b;
  each_restart_only(a, b, [&](const char* key, const auto&, const auto&) {
    std::string k = key;
    keys.push_back(k.substr(0, k.find(' ')));  // without " (--flag)"
  });
  return keys;
}

namespace {

bool asks_for_credentials(const Config& c) {
  return c.alertmanager_auth.enabled() || (c.pagerduty.enabled && !c.pagerduty.secrets.empty());
}

}  // namespace

std::string weakens_authentication(const Config& running, const Config& loaded) {
  if (!asks_for_credentials(running) || asks_for_credentials(loaded)) {
    return "";
  }
  return "the file removes every credential (receivers.alertmanager's token or basic_auth, "
         "receivers.pagerduty's signing secrets): turning authentication off takes a restart";
}

}  // namespace calloutd
