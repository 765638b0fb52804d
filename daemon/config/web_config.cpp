#include "daemon/config/web_config.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "daemon/config/reader.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using config_detail::Checker;

constexpr std::array k_client_auth_types{"NoClientCert", "RequestClientCert",
                                         "RequireAnyClientCert", "VerifyClientCertIfGiven",
                                         "RequireAndVerifyClientCert"};
constexpr std::array k_versions{"TLS10", "TLS11", "TLS12", "TLS13"};

// Keys Prometheus reads that calloutd does not implement, and why: refused by
// name so that a file shared with Prometheus never half-applies.
const std::map<std::string, std::string>& unsupported_top_keys() {
  static const std::map<std::string, std::string> keys{
      {"basic_auth_users",
       "calloutd does not read authentication from the web-config file: configure it in "
       "calloutd.yml (receivers.alertmanager.bearer_token_file or basic_auth, and "
       "receivers.authenticate_reads)"},
      {"http_server_config",
       "not supported by calloutd (it serves HTTP/1.1 and sets its own headers); remove it"},
  };
  return keys;
}

const std::map<std::string, std::string>& unsupported_tls_keys() {
  static const std::map<std::string, std::string> keys{
      {"cert", "not supported by calloutd: put the certificate in a file named by cert_file"},
      {"key", "not supported by calloutd: put the key in a file named by key_file"},
      {"client_ca", "not supported by calloutd: put the CA in a file named by client_ca_file"},
      {"client_allowed_sans", "not supported by calloutd; remove it"},
      {"cipher_suites",
       "not supported by calloutd (OpenSSL's default suites for the TLS version apply); remove it"},
      {"curve_preferences",
       "not supported by calloutd (OpenSSL's default groups apply); remove it"},
  };
  return keys;
}

std::set<std::string> keys_of(const std::map<std::string, std::string>& m,
                              std::set<std::string> also) {
  for (const auto& [key, why] : m) {
    also.insert(key);
  }
  return also;
}

// Refuses each key of `node` that `unsupported` names, with its reason.
void refuse_unsupported(Checker& c, const YAML::Node& node, const std::string& prefix,
                        const std::map<std::string, std::string>& unsupported) {
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      continue;
    }
    auto it = unsupported.find(kv.first.as<std::string>());
    if (it != unsupported.end()) {
      c.error(kv.first, prefix + it->first + ": " + it->second);
    }
  }
}

template <std::size_t N>
void one_of(Checker& c, const YAML::Node& node, const std::string& path,
            const std::array<const char*, N>& allowed, std::string& out) {
  std::string value;
  if (!c.scalar(node, path, value)) {
    return;
  }
  std::string list;
  for (const char* a : allowed) {
    if (value == a) {
      out = value;
      return;
    }
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  c.error(node, path + ": unknown value \"" + value + "\" (one of " + list + ")");
}

void read_files(Checker& c, const YAML::Node& node, TlsServerConfig& tls) {
  const std::string p = "tls_server_config.";
  for (auto [key, out] :
       {std::pair{"cert_file", &tls.cert_file}, std::pair{"key_file", &tls.key_file},
        std::pair{"client_ca_file", &tls.client_ca_file}}) {
    if (node[key] && c.scalar(node[key], p + key, *out)) {
      *out = c.resolve_path(*out);
    }
  }
  for (const char* key : {"cert_file", "key_file"}) {
    if (!node[key]) {
      c.error(node, p + key + ": missing (a TLS listener needs a certificate and its key)");
    } else if (node[key].IsScalar() && node[key].as<std::string>().empty()) {
      c.error(node[key], p + key + ": empty");
    }
  }
}

// client_auth_type and client_ca_file go together: a CA without a verifying
// type would be silently unused, a verifying type without a CA refuses everyone.
void check_client_auth(Checker& c, const YAML::Node& node, const TlsServerConfig& tls) {
  const bool verifies = verifies_client_certs(tls.client_auth_type);
  if (!tls.client_ca_file.empty() && !verifies) {
    c.error(node["client_ca_file"],
            "tls_server_config.client_ca_file: set, but client_auth_type \"" +
                tls.client_auth_type +
                "\" does not verify client certificates (use VerifyClientCertIfGiven or "
                "RequireAndVerifyClientCert)");
  } else if (verifies && tls.client_ca_file.empty()) {
    c.error(node["client_auth_type"], "tls_server_config.client_auth_type: \"" +
                                          tls.client_auth_type +
                                          "\" verifies client certificates, but "
                                          "client_ca_file is not set");
  }
}

void check_versions(Checker& c, const YAML::Node& node, const TlsServerConfig& tls) {
  if (tls.max_version.empty() || tls.max_version >= tls.min_version) {
    return;  // TLS10 < TLS11 < TLS12 < TLS13 as strings too
  }
  c.error(node["max_version"], "tls_server_config.max_version: " + tls.max_version +
                                   " is below min_version " + tls.min_version);
}

// `key`: the tls_server_config key itself, where an empty block is reported.
void read_tls(Checker& c, const YAML::Node& key, const YAML::Node& node, WebConfig& out) {
  const std::string p = "tls_server_config";
  static const auto allowed = keys_of(
      unsupported_tls_keys(), {"cert_file", "key_file", "client_auth_type", "client_ca_file",
                               "min_version", "max_version", "prefer_server_cipher_suites"});
  if (!c.mapping(node, p, allowed)) {
    if (node.IsNull()) {
      c.error(key, p + ": empty (a TLS listener needs cert_file and key_file)");
    }
    return;
  }
  refuse_unsupported(c, node, p + ".", unsupported_tls_keys());
  TlsServerConfig tls;
  read_files(c, node, tls);
  if (node["client_auth_type"]) {
    one_of(c, node["client_auth_type"], p + ".client_auth_type", k_client_auth_types,
           tls.client_auth_type);
  }
  if (node["min_version"]) {
    one_of(c, node["min_version"], p + ".min_version", k_versions, tls.min_version);
  }
  if (node["max_version"]) {
    one_of(c, node["max_version"], p + ".max_version", k_versions, tls.max_version);
  }
  if (node["prefer_server_cipher_suites"]) {
    c.boolean(node["prefer_server_cipher_suites"], p + ".prefer_server_cipher_suites",
              tls.prefer_server_cipher_suites);
  }
  check_client_auth(c, node, tls);
  check_versions(c, node, tls);
  out.tls = std::move(tls);
}

}  // namespace

bool verifies_client_certs(const std::string& type) {
  return type == "VerifyClientCertIfGiven" || type == "RequireAndVerifyClientCert";
}

LoadedWebConfig parse_web_config(const std::string& text, const std::string& source,
                                 const std::string& base_dir) {
  LoadedWebConfig out;
  Checker c(source, base_dir);
  try {
    YAML::Node root = YAML::Load(text);
    static const auto allowed = keys_of(unsupported_top_keys(), {"tls_server_config"});
    if (!root.IsNull() && !root.IsMap()) {
      c.error(root, "expected a mapping (tls_server_config: ...)");
    } else if (!root.IsNull() && c.mapping(root, "", allowed)) {
      refuse_unsupported(c, root, "", unsupported_top_keys());
      for (const auto& kv : root) {
        if (kv.first.IsScalar() && kv.first.as<std::string>() == "tls_server_config") {
          read_tls(c, kv.first, kv.second, out.config);
        }
      }
    }
  } catch (const YAML::Exception& e) {
    c.error_at(e.mark.line + 1, "invalid YAML: " + e.msg);
  }
  // The only key the file may hold is tls_server_config: without it, it is
  // empty. Never read as "plain HTTP" (a reload would turn TLS off).
  if (c.sorted_errors().empty() && !out.config.tls) {
    c.error_at(1,
               "no tls_server_config: the file is empty (turning TLS off takes a restart "
               "without --web.config.file)");
  }
  out.errors = c.sorted_errors();
  if (!out.errors.empty()) {
    out.config = WebConfig{};  // refused as a whole
  }
  return out;
}

LoadedWebConfig load_web_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedWebConfig out;
    out.errors.push_back(path + ":0: cannot read the web-config file");
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_web_config(ss.str(), path, fs::absolute(path).parent_path().string());
}

}  // namespace calloutd
