// TLS on the listener (--web.config.file, Prometheus' web-config format):
// the daemon binary on 127.0.0.1 with certificates made by the openssl
// command line, reached by an HTTPS client that says why it failed; and the
// listener itself taking a new certificate for its next connection.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "daemon/http/http_listener.hpp"
#include "daemon/http/tls.hpp"
#include "daemon/metrics/metrics.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/tls_support.hpp"

namespace calloutd {
namespace {

using testing::DaemonProcess;
using ::testing::HasSubstr;
using testing::https_request;
using testing::HttpsOptions;
using testing::metric;
using testing::TempDir;
using testing::TestCa;
using testing::write_file;

constexpr const char* k_config = R"(
repository:
  path: callouts
receivers:
  alertmanager:
    bearer_token_file: token
web:
  read_header_timeout: 1s
)";

class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : ca(dir.path()) {
    write_file(dir.path() / "calloutd.yml", k_config);
    write_file(dir.path() / "token", "example-bearer-token\n");
    server = ca.server("calloutd-one");
  }
  // A web-config file with relative paths, as an operator writes it beside the certificates.
  void write_web_config(const std::string& extra = "") {
    write_file(dir.path() / "web.yml",
               "tls_server_config:\n  cert_file: calloutd-one.pem\n"
               "  key_file: calloutd-one.key\n" +
                   extra);
  }
  std::unique_ptr<DaemonProcess> start(std::vector<std::string> more = {}) {
    more.insert(more.begin(), {"--config.file=calloutd.yml", "--web.config.file=web.yml"});
    return std::make_unique<DaemonProcess>(dir.path(), more);
  }
  HttpsOptions trusting() const { return {ca.ca_file(), {}, std::chrono::seconds(10)}; }

  TempDir dir;
  TestCa ca;
  testing::CertPair server;
};

TEST_F(TlsTest, ServesHttpsWithTheCertificateOfTheWebConfigFile) {
  write_web_config();
  auto d = start();
  EXPECT_THAT(d->log(), HasSubstr("tls=on"));
  auto healthy = https_request(d->port(), "GET", "/-/healthy", trusting());
  ASSERT_TRUE(healthy) << healthy.error();
  EXPECT_EQ(healthy->status, 200);
  EXPECT_EQ(healthy->server_subject, "/CN=calloutd-one");
  auto posted = https_request(d->port(), "POST", "/api/v1/alertmanager", trusting(),
                              testing::sample("am-0.25-firing-two-alerts.json"),
                              "Bearer example-bearer-token");
  ASSERT_TRUE(posted) << posted.error();
  EXPECT_EQ(posted->status, 200) << posted->body;
}

TEST_F(TlsTest, RefusesAClientThatDoesNotTrustTheCa) {
  write_web_config();
  auto d = start();
  auto r = https_request(d->port(), "GET", "/-/healthy", {});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("handshake: certificate verify failed"));
}

TEST_F(TlsTest, PlainHttpToTheTlsPortGetsNoAnswerAndADebugLine) {
  write_web_config();
  auto d = start({"--log.level=debug"});
  auto r = d->client()->Get("/-/healthy");
  EXPECT_FALSE(r);
  // Logged at debug, not warn: a port scanner must not flood the log.
  EXPECT_TRUE(testing::eventually(10, [&] {
    return d->log().find("level=debug msg=\"TLS handshake failed\"") != std::string::npos;
  })) << d->log();
  EXPECT_EQ(d->log().find("level=warn msg=\"TLS handshake failed\""), std::string::npos);
}

TEST_F(TlsTest, ASilentHandshakeIsCutAtTheHeaderTimeout) {
  write_web_config();
  auto d = start();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(d->port()));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  std::string scraped;
  EXPECT_TRUE(testing::eventually(10, [&] {
    auto m = https_request(d->port(), "GET", "/metrics", trusting());
    scraped = m ? m->body : m.error();
    return metric(scraped, "calloutd_http_request_timeouts_total{phase=\"handshake\"}") == 1;
  })) << scraped;
  ::close(fd);
}

TEST_F(TlsTest, MutualTlsRefusesAClientWithoutACertificateFromTheCa) {
  write_web_config("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n");
  auto d = start();
  auto without = https_request(d->port(), "GET", "/-/healthy", trusting());
  ASSERT_FALSE(without);
  EXPECT_THAT(without.error(), HasSubstr("certificate required"));

  TempDir other_dir;
  TestCa other(other_dir.path());
  auto stranger = https_request(d->port(), "GET", "/-/healthy",
                                {ca.ca_file(), other.client("stranger"), std::chrono::seconds(10)});
  ASSERT_FALSE(stranger);

  auto with = https_request(d->port(), "GET", "/-/healthy",
                            {ca.ca_file(), ca.client("alertmanager"), std::chrono::seconds(10)});
  ASSERT_TRUE(with) << with.error();
  EXPECT_EQ(with->status, 200);
}

TEST_F(TlsTest, ABadWebConfigStopsTheStartAndFailsTheCheck) {
  write_web_config("basic_auth_users:\n  alice: x\n");
  auto calloutd = testing::calloutd_binary();
  int status = 0;
  auto out =
      testing::run("cd '" + dir.str() + "' && " + calloutd +
                       " --check-config --config.file=calloutd.yml --web.config.file=web.yml 2>&1",
                   &status);
  EXPECT_NE(status, 0);
  EXPECT_THAT(out, HasSubstr("web.yml:4: basic_auth_users: calloutd does not read authentication"));

  write_web_config();
  std::filesystem::remove(dir.path() / "calloutd-one.key");
  out = testing::run("cd '" + dir.str() + "' && " + calloutd +
                         " --config.file=calloutd.yml --web.config.file=web.yml "
                         "--web.listen-address=127.0.0.1:0 2>&1",
                     &status);
  EXPECT_EQ(status, 1);
  EXPECT_THAT(out, HasSubstr("bad web config"));
  EXPECT_THAT(out, HasSubstr("key_file \\\"" + (dir.path() / "calloutd-one.key").string()));
}

// A certificate replaced in place is served after SIGHUP; one that does not
// load is refused with the reload, and the old one stays in use.
TEST_F(TlsTest, AReloadServesAReplacedCertificateAndKeepsTheOldOneWhenTheNewIsBad) {
  write_web_config();
  auto d = start();
  auto before = https_request(d->port(), "GET", "/-/healthy", trusting());
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(before->server_subject, "/CN=calloutd-one");

  auto renewed = ca.server("calloutd-renewed");
  std::filesystem::copy_file(renewed.cert, server.cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(renewed.key, server.key,
                             std::filesystem::copy_options::overwrite_existing);
  d->process().kill(SIGHUP);
  ASSERT_TRUE(testing::eventually(10, [&] {
    return d->log().find("msg=\"configuration reloaded\"") != std::string::npos;
  })) << d->log();
  auto after = https_request(d->port(), "GET", "/-/healthy", trusting());
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(after->server_subject, "/CN=calloutd-renewed");

  write_file(server.cert, "not a certificate\n");
  d->process().kill(SIGHUP);
  ASSERT_TRUE(testing::eventually(10, [&] {
    return d->log().find("no start line (PEM routines)") != std::string::npos;
  })) << d->log();
  EXPECT_THAT(d->log(), HasSubstr("configuration not reloaded"));
  auto kept = https_request(d->port(), "GET", "/-/healthy", trusting());
  ASSERT_TRUE(kept) << kept.error();
  EXPECT_EQ(kept->server_subject, "/CN=calloutd-renewed");
}

// Issue 25: a web-config file emptied at a reload (comment-only, `{}`) turned
// TLS and mTLS off in silence, and the reload counted as a success. It is
// refused now: TLS stays on, the log says why; at start it is an error.
TEST_F(TlsTest, AnEmptiedWebConfigNeverTurnsTlsOff) {
  write_web_config("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n");
  auto d = start();
  auto client = ca.client("alertmanager");
  HttpsOptions with_cert{ca.ca_file(), client, std::chrono::seconds(10)};
  std::size_t round = 0;
  for (const char* emptied : {"", "# tls_server_config: rewritten by a template\n", "{}\n"}) {
    ++round;
    write_file(dir.path() / "web.yml", emptied);
    d->process().kill(SIGHUP);
    ASSERT_TRUE(testing::eventually(10, [&] {  // taken or refused: the reload is done
      return testing::occurrences(d->log(), "configuration reloaded") +
                 testing::occurrences(d->log(), "configuration not reloaded") >=
             round;
    })) << d->log();
    auto served = https_request(d->port(), "GET", "/-/healthy", with_cert);
    ASSERT_TRUE(served) << served.error();
    EXPECT_EQ(served->status, 200);
    EXPECT_FALSE(https_request(d->port(), "GET", "/-/healthy", trusting()))
        << "a client without a certificate was served";
    auto plain = d->client()->Get("/-/healthy");
    EXPECT_FALSE(plain && plain->status == 200) << "plain HTTP was served";
    EXPECT_EQ(testing::occurrences(d->log(), "no tls_server_config: the file is empty"), round);
    EXPECT_EQ(testing::occurrences(d->log(), "configuration not reloaded"), round);
  }
  auto metrics =
      https_request(d->port(), "GET", "/metrics", with_cert, "", "Bearer example-bearer-token");
  ASSERT_TRUE(metrics) << metrics.error();
  EXPECT_EQ(testing::metric(metrics->body, "calloutd_config_last_reload_successful"), 0);

  int status = 0;
  auto out = testing::run("cd '" + dir.str() + "' && " + testing::calloutd_binary() +
                              " --config.file=calloutd.yml --web.config.file=web.yml "
                              "--web.listen-address=127.0.0.1:0 2>&1",
                          &status);
  EXPECT_EQ(status, 1);
  EXPECT_THAT(out, HasSubstr("web.yml:1: no tls_server_config: the file is empty"));
}

TEST(TlsContextTest, NamesTheFileAndOpenSslsReason) {
  TempDir dir;
  TestCa ca(dir.path());
  auto one = ca.server("one");
  auto two = ca.server("two");
  TlsServerConfig tls;
  tls.cert_file = (dir.path() / "missing.pem").string();
  tls.key_file = one.key.string();
  EXPECT_EQ(tls_context(tls).error(),
            "cert_file \"" + tls.cert_file + "\": cannot read (No such file or directory)");
  write_file(dir.path() / "garbage.pem", "not a certificate\n");
  tls.cert_file = (dir.path() / "garbage.pem").string();
  EXPECT_EQ(tls_context(tls).error(),
            "cert_file \"" + tls.cert_file + "\": no start line (PEM routines)");
  tls.cert_file = one.cert.string();
  tls.key_file = two.key.string();
  EXPECT_EQ(tls_context(tls).error(),
            "key_file \"" + tls.key_file + "\": key values mismatch (x509 certificate routines)");
  tls.key_file = one.key.string();
  EXPECT_TRUE(tls_context(tls));
}

// The reload's half in the listener: a context given to use_tls() is served
// to the next connection; nullptr goes back to plain HTTP.
TEST(TlsListenerTest, UseTlsServesANewCertificateToTheNextConnection) {
  TempDir dir;
  TestCa ca(dir.path());
  Metrics metrics;
  HttpRoute hello{"GET", "/hello", 0,
                  "",    {},       [](const HttpRequest&) {
                    return HttpResponse::text("hello"); }};
  HttpListener listener(HttpLimits{}, {hello}, metrics);
  auto port = listener.bind("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error();
  auto context_for = [&](const std::string& name) {
    auto pair = ca.server(name);
    TlsServerConfig tls;
    tls.cert_file = pair.cert.string();
    tls.key_file = pair.key.string();
    auto ctx = tls_context(tls);
    EXPECT_TRUE(ctx) << ctx.error();
    return *ctx;
  };
  listener.use_tls(context_for("first"));
  std::thread serving([&] { listener.run(); });
  HttpsOptions trusting{ca.ca_file(), {}, std::chrono::seconds(10)};

  auto before = https_request(*port, "GET", "/hello", trusting);
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(before->server_subject, "/CN=first");
  EXPECT_EQ(before->body, "hello");

  listener.use_tls(context_for("second"));  // a replaced certificate, reloaded
  auto after = https_request(*port, "GET", "/hello", trusting);
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(after->server_subject, "/CN=second");

  listener.use_tls(nullptr);
  httplib::Client plain("127.0.0.1", *port);
  auto r = plain.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");

  listener.stop();
  serving.join();
}

}  // namespace
}  // namespace calloutd
