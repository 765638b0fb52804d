// TLS for the tests: certificates made with the openssl command line, and a
// small HTTPS client (Boost.Beast on OpenSSL) that says why a connection failed.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "daemon/base/result.hpp"

namespace calloutd::testing {

struct CertPair {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// A CA in `dir`, and certificates it signs (EC P-256, valid two days).
class TestCa {
 public:
  explicit TestCa(const std::filesystem::path& dir);
  const std::filesystem::path& ca_file() const { return m_ca.cert; }
  // A server certificate with subject CN=`name` and subjectAltName
  // IP:127.0.0.1, DNS:localhost (Go's TLS client requires SANs).
  CertPair server(const std::string& name) const;
  // A client certificate (extendedKeyUsage clientAuth), subject CN=`name`.
  CertPair client(const std::string& name) const;

 private:
  CertPair sign(const std::string& name, const std::string& extensions) const;
  std::filesystem::path m_dir;
  CertPair m_ca;
};

struct HttpsOptions {
  std::filesystem::path ca_file;  // empty: the system's CAs (which do not know the test CA)
  CertPair client;                // empty: no client certificate
  std::chrono::seconds timeout{10};
};

struct HttpsAnswer {
  int status = 0;
  std::string body;
  std::string server_subject;  // the server certificate's subject, "/CN=..."
};

// `method` `target` over HTTPS to 127.0.0.1:`port`, verifying the server's
// certificate for 127.0.0.1. The error says which step failed and why.
Result<HttpsAnswer> https_request(int port, const std::string& method, const std::string& target,
                                  const HttpsOptions& options, const std::string& body = "",
                                  const std::string& authorization = "");

}  // namespace calloutd::testing
