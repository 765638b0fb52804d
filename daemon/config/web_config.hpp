// The web-config file of --web.config.file, in the format Prometheus and
// Alertmanager read (https://prometheus.io/docs/prometheus/latest/configuration/https/),
// so that one `tls_server_config` block serves all three. calloutd reads its
// TLS settings only: authentication stays in calloutd.yml, and every key
// Prometheus knows that calloutd does not implement is refused by name,
// never half-honoured.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace calloutd {

struct TlsServerConfig {
  // Absolute, or relative to the web-config file's folder (made absolute here).
  std::string cert_file;
  std::string key_file;
  // NoClientCert (default), RequestClientCert, RequireAnyClientCert,
  // VerifyClientCertIfGiven or RequireAndVerifyClientCert, as Go's tls names them.
  std::string client_auth_type = "NoClientCert";
  std::string client_ca_file;  // set exactly when client_auth_type verifies
  // TLS10, TLS11, TLS12 or TLS13; max_version empty: the newest OpenSSL has.
  std::string min_version = "TLS12";
  std::string max_version;
  bool prefer_server_cipher_suites = true;
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;  // none: plain HTTP
};

struct LoadedWebConfig {
  WebConfig config;
  std::vector<std::string> errors;  // `FILE:LINE: message`, in file order
};

// Reads the web-config file at `path`. Files it names are not opened here
// (the TLS context does that, so that a reload reads them again).
LoadedWebConfig load_web_config(const std::string& path);
// Same, from text; `source` names it in messages and `base_dir` anchors relative paths.
LoadedWebConfig parse_web_config(const std::string& text, const std::string& source,
                                 const std::string& base_dir);

// Whether client_auth_type `type` verifies client certificates against client_ca_file.
bool verifies_client_certs(const std::string& type);

}  // namespace calloutd
