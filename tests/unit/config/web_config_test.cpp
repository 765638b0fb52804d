#include "daemon/config/web_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using ::testing::ElementsAre;
using testing::TempDir;
using testing::write_file;

LoadedWebConfig parse(const std::string& text) {
  return parse_web_config(text, "web.yml", "/etc/calloutd");
}

// Issue 25: an empty web-config file (a rewrite caught mid-write, an emptied
// template) was read as "no TLS", and a reload turned TLS and mTLS off in
// silence. A web-config file without tls_server_config is an error now.
TEST(WebConfigTest, AFileWithoutTlsServerConfigIsAnError) {
  for (const char* text : {"", "# all commented out\n", "{}\n", "---\n"}) {
    auto w = parse(text);
    ASSERT_THAT(w.errors, ElementsAre("web.yml:1: no tls_server_config: the file is empty "
                                      "(turning TLS off takes a restart without "
                                      "--web.config.file)"))
        << text;
    EXPECT_FALSE(w.config.tls);
  }
}

TEST(WebConfigTest, ReadsTlsServerConfigWithPathsRelativeToTheFile) {
  auto w = parse(R"(
tls_server_config:
  cert_file: tls/cert.pem
  key_file: /secrets/key.pem
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
  min_version: TLS13
  max_version: TLS13
  prefer_server_cipher_suites: false
)");
  ASSERT_THAT(w.errors, ElementsAre());
  ASSERT_TRUE(w.config.tls);
  EXPECT_EQ(w.config.tls->cert_file, "/etc/calloutd/tls/cert.pem");
  EXPECT_EQ(w.config.tls->key_file, "/secrets/key.pem");
  EXPECT_EQ(w.config.tls->client_auth_type, "RequireAndVerifyClientCert");
  EXPECT_EQ(w.config.tls->client_ca_file, "/etc/calloutd/ca.pem");
  EXPECT_EQ(w.config.tls->min_version, "TLS13");
  EXPECT_EQ(w.config.tls->max_version, "TLS13");
  EXPECT_FALSE(w.config.tls->prefer_server_cipher_suites);
}

TEST(WebConfigTest, DefaultsAsPrometheus) {
  auto w = parse("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n");
  ASSERT_THAT(w.errors, ElementsAre());
  EXPECT_EQ(w.config.tls->client_auth_type, "NoClientCert");
  EXPECT_EQ(w.config.tls->min_version, "TLS12");
  EXPECT_EQ(w.config.tls->max_version, "");
  EXPECT_TRUE(w.config.tls->prefer_server_cipher_suites);
}

TEST(WebConfigTest, RefusesBasicAuthUsersSayingWhereAuthLives) {
  auto w = parse(R"(
tls_server_config:
  cert_file: c.pem
  key_file: k.pem
basic_auth_users:
  alice: $2y$10$abc
)");
  EXPECT_THAT(w.errors,
              ElementsAre("web.yml:5: basic_auth_users: calloutd does not read authentication "
                          "from the web-config file: configure it in calloutd.yml "
                          "(receivers.alertmanager.bearer_token_file or basic_auth, and "
                          "receivers.authenticate_reads)"));
  EXPECT_FALSE(w.config.tls);  // refused as a whole
}

TEST(WebConfigTest, RefusesWhatPrometheusKnowsAndCalloutdDoesNotImplementByName) {
  auto w = parse(R"(
http_server_config:
  http2: false
tls_server_config:
  cert_file: c.pem
  key_file: k.pem
  cipher_suites: [TLS_AES_128_GCM_SHA256]
  curve_preferences: [X25519]
  client_allowed_sans: [a.example]
  cert: inline
)");
  EXPECT_THAT(
      w.errors,
      ElementsAre("web.yml:2: http_server_config: not supported by calloutd (it serves HTTP/1.1 "
                  "and sets its own headers); remove it",
                  "web.yml:7: tls_server_config.cipher_suites: not supported by calloutd "
                  "(OpenSSL's default suites for the TLS version apply); remove it",
                  "web.yml:8: tls_server_config.curve_preferences: not supported by calloutd "
                  "(OpenSSL's default groups apply); remove it",
                  "web.yml:9: tls_server_config.client_allowed_sans: not supported by "
                  "calloutd; remove it",
                  "web.yml:10: tls_server_config.cert: not supported by calloutd: put the "
                  "certificate in a file named by cert_file"));
}

TEST(WebConfigTest, RefusesUnknownKeys) {
  auto w = parse(R"(
tls_config:
  cert_file: c.pem
tls_server_config:
  cert_file: c.pem
  key_file: k.pem
  min_verison: TLS13
)");
  EXPECT_THAT(w.errors,
              ElementsAre("web.yml:2: tls_config: unknown key \"tls_config\"",
                          "web.yml:7: tls_server_config.min_verison: unknown key \"min_verison\""));
}

TEST(WebConfigTest, RequiresCertAndKey) {
  auto w = parse("tls_server_config:\n  client_auth_type: NoClientCert\n");
  EXPECT_THAT(w.errors, ElementsAre("web.yml:2: tls_server_config.cert_file: missing (a TLS "
                                    "listener needs a certificate and its key)",
                                    "web.yml:2: tls_server_config.key_file: missing (a TLS "
                                    "listener needs a certificate and its key)"));
  auto empty = parse("tls_server_config:\n  cert_file: ''\n  key_file: k.pem\n");
  EXPECT_THAT(empty.errors, ElementsAre("web.yml:2: tls_server_config.cert_file: empty"));
  auto none = parse("tls_server_config:\n");
  EXPECT_THAT(none.errors, ElementsAre("web.yml:1: tls_server_config: empty (a TLS listener "
                                       "needs cert_file and key_file)"));
}

TEST(WebConfigTest, ClientCaAndAVerifyingClientAuthTypeGoTogether) {
  auto ca_unused = parse(R"(
tls_server_config:
  cert_file: c.pem
  key_file: k.pem
  client_auth_type: RequireAnyClientCert
  client_ca_file: ca.pem
)");
  EXPECT_THAT(ca_unused.errors,
              ElementsAre("web.yml:6: tls_server_config.client_ca_file: set, but "
                          "client_auth_type \"RequireAnyClientCert\" does not verify client "
                          "certificates (use VerifyClientCertIfGiven or "
                          "RequireAndVerifyClientCert)"));
  auto no_ca = parse(R"(
tls_server_config:
  cert_file: c.pem
  key_file: k.pem
  client_auth_type: VerifyClientCertIfGiven
)");
  EXPECT_THAT(no_ca.errors,
              ElementsAre("web.yml:5: tls_server_config.client_auth_type: "
                          "\"VerifyClientCertIfGiven\" verifies client certificates, but "
                          "client_ca_file is not set"));
}

TEST(WebConfigTest, RefusesUnknownValues) {
  auto w = parse(R"(
tls_server_config:
  cert_file: c.pem
  key_file: k.pem
  client_auth_type: RequireClientCert
  min_version: TLS14
  max_version: TLS11
  prefer_server_cipher_suites: yes
)");
  EXPECT_THAT(
      w.errors,
      ElementsAre("web.yml:5: tls_server_config.client_auth_type: unknown value "
                  "\"RequireClientCert\" (one of NoClientCert, RequestClientCert, "
                  "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)",
                  "web.yml:6: tls_server_config.min_version: unknown value \"TLS14\" (one of "
                  "TLS10, TLS11, TLS12, TLS13)",
                  "web.yml:7: tls_server_config.max_version: TLS11 is below min_version TLS12",
                  "web.yml:8: tls_server_config.prefer_server_cipher_suites: \"yes\" is not "
                  "true or false"));
}

TEST(WebConfigTest, RefusesBadYamlAndNonMappings) {
  EXPECT_THAT(parse("tls_server_config: [\n").errors,
              ElementsAre(::testing::StartsWith("web.yml:2: invalid YAML: ")));
  EXPECT_THAT(parse("- a\n").errors,
              ElementsAre("web.yml:1: expected a mapping (tls_server_config: ...)"));
}

TEST(WebConfigTest, LoadsFromAFileAndSaysWhenItCannot) {
  TempDir dir;
  write_file(dir.path() / "web.yml", "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n");
  auto w = load_web_config((dir.path() / "web.yml").string());
  ASSERT_THAT(w.errors, ElementsAre());
  EXPECT_EQ(w.config.tls->cert_file, (dir.path() / "c.pem").string());
  auto missing = (dir.path() / "nope.yml").string();
  EXPECT_THAT(load_web_config(missing).errors,
              ElementsAre(missing + ":0: cannot read the web-config file"));
}

}  // namespace
}  // namespace calloutd
