// End to end over TLS: Debian's Alertmanager delivers to the calloutd binary
// over HTTPS, checking calloutd's certificate against the test's CA
// (http_config.tls_config.ca_file) and showing its own client certificate
// (mTLS), as an operator sharing one CA between the two would run them.
#include <gtest/gtest.h>
#include <httplib.h>
#include <re2/re2.h>

#include "tests/support/daemon_process.hpp"
#include "tests/support/tls_support.hpp"

namespace calloutd {
namespace {

using testing::DaemonProcess;
using testing::eventually;
using testing::git;
using testing::Process;
using testing::TempDir;
using testing::TestCa;
using testing::write_file;

TEST(TlsEndToEndTest, AlertmanagerDeliversOverMutualTlsAndTheCalloutIsCommitted) {
  TempDir dir;
  TestCa ca(dir.path());
  auto server = ca.server("calloutd");
  auto client = ca.client("alertmanager");
  write_file(dir.path() / "token", "e2e-token\n");
  write_file(dir.path() / "calloutd.yml", R"(
repository:
  path: callouts
receivers:
  alertmanager:
    bearer_token_file: token
)");
  write_file(dir.path() / "web.yml", R"(
tls_server_config:
  cert_file: calloutd.pem
  key_file: calloutd.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
)");
  DaemonProcess calloutd(dir.path(), {"--config.file=calloutd.yml", "--web.config.file=web.yml"});

  int am_port = testing::free_port();
  write_file(dir.path() / "alertmanager.yml", R"(
route:
  receiver: calloutd
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: calloutd
    webhook_configs:
      - url: )" + calloutd.https_url() + R"(/api/v1/alertmanager
        http_config:
          authorization:
            credentials: e2e-token
          tls_config:
            ca_file: ca.pem
            cert_file: alertmanager.pem
            key_file: alertmanager.key
)");
  Process alertmanager(
      {"prometheus-alertmanager", "--config.file=alertmanager.yml", "--storage.path=am-data",
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
      (dir.path() / "alertmanager.log").string(), dir.path());

  // An alert posted to Alertmanager's API, as Prometheus would send it.
  httplib::Client am("127.0.0.1", am_port);
  const std::string alert =
      R"([{"labels": {"alertname": "DiskFull", "severity": "page", "technology": "storage"},
           "annotations": {"summary": "Disk full on db-1"}}])";
  ASSERT_TRUE(eventually(30, [&] {
    auto r = am.Post("/api/v2/alerts", alert, "application/json");
    return r && r->status == 200;
  })) << testing::read_file(dir.path() / "alertmanager.log");

  auto repo = dir.path() / "callouts";
  std::string folder;
  ASSERT_TRUE(eventually(60,
                         [&] {
                           return RE2::PartialMatch(git(repo, "ls-tree -r --name-only main"),
                                                    R"((\S*disk-full\S*)/callout\.md)", &folder);
                         }))
      << calloutd.log() << testing::read_file(dir.path() / "alertmanager.log");
  EXPECT_NE(git(repo, "show main:" + folder + "/callout.md").find("DiskFull"), std::string::npos);
}

}  // namespace
}  // namespace calloutd
