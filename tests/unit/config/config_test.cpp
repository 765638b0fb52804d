#include "daemon/config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(ConfigTest, EmptyFileMeansDefaults) {
  auto c = parse_config("", "c.yml", "/");
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(c.config.listen_address, "127.0.0.1:9095");
  EXPECT_EQ(c.config.repo_path, "./callouts");
  EXPECT_EQ(c.config.max_body_bytes, 1024u * 1024u);
  EXPECT_EQ(c.config.reopen_window, std::chrono::hours{1});
  ASSERT_EQ(c.config.routes.size(), 2u);
  EXPECT_EQ(c.config.routes[0].severity, Severity::mpi);
  EXPECT_TRUE(all_match(c.config.routes[0].matchers, {{"severity", "page"}}));
  EXPECT_TRUE(all_match(c.config.routes[1].matchers, {{"severity", "major"}}));
  EXPECT_FALSE(all_match(c.config.routes[1].matchers, {{"severity", "warning"}}));
}

TEST(ConfigTest, ReadsEverySection) {
  TempDir dir;
  write_file(dir.path() / "token", "s3cret\n");
  write_file(dir.path() / "pw", "example-password");
  std::string yml = R"(
web:
  listen_address: 0.0.0.0:19095
  max_body_bytes: 65536
repository:
  path: /srv/callouts
  branch: incidents
  author_name: Callout Bot
  author_email: bot@example.com
receivers:
  alertmanager:
    bearer_token_file: token
    basic_auth:
      username: alertmanager
      password_file: pw
incidents:
  reopen_window: 30m
routes:
  - matchers: ['team="db"', 'severity=~"critical|page"']
    severity: MPI
    technology: mysql
    dashboard_url_template: "https://grafana.example/d/db?var-cluster={{cluster}}"
  - matchers: ['team="qa"']
    severity: ignore
)";
  auto c = parse_config(yml, "calloutd.yml", dir.str());
  ASSERT_TRUE(c.errors.empty()) << c.errors[0];
  EXPECT_EQ(c.config.listen_address, "0.0.0.0:19095");
  EXPECT_EQ(c.config.max_body_bytes, 65536u);
  EXPECT_EQ(c.config.branch, "incidents");
  EXPECT_EQ(c.config.alertmanager_auth.bearer_token, "s3cret");
  ASSERT_EQ(c.config.alertmanager_auth.basic.size(), 1u);
  EXPECT_EQ(c.config.alertmanager_auth.basic[0].password, "example-password");
  EXPECT_EQ(c.config.reopen_window, std::chrono::minutes{30});
  ASSERT_EQ(c.config.routes.size(), 2u);
  EXPECT_EQ(c.config.routes[0].technology, "mysql");
  EXPECT_EQ(c.config.routes[0].matchers.size(), 2u);
  EXPECT_EQ(c.config.routes[1].severity, Severity::ignore);
}

TEST(ConfigTest, ReportsEveryErrorWithFileAndLine) {
  std::string yml =
      "web:\n"                                   // 1
      "  listen_adress: 1.2.3.4:1\n"             // 2
      "  max_body_bytes: lots\n"                 // 3
      "incidents:\n"                             // 4
      "  reopen_window: 1 hour\n"                // 5
      "routes:\n"                                // 6
      "  - matchers: ['team=\"db\"']\n"          // 7
      "    severity: MPI\n"                      // 8
      "  - matchers: ['team=\"a\"']\n"           // 9
      "    severity: P1\n"                       // 10
      "  - matchers: ['severity=!\"page\"']\n"   // 11
      "    severity: HPI\n"                      // 12
      "    technology: My SQL\n"                 // 13
      "receivers:\n"                             // 14
      "  alertmanager:\n"                        // 15
      "    bearer_token_file: /nonexistent/t\n"  // 16
      "colour: blue\n";                          // 17
  auto c = parse_config(yml, "calloutd.yml", "/etc");
  EXPECT_EQ(
      c.errors,
      (std::vector<std::string>{
          R"(calloutd.yml:2: web.listen_adress: unknown key "listen_adress")",
          R"(calloutd.yml:3: web.max_body_bytes: "lots" is not an integer >= 1024)",
          R"(calloutd.yml:5: incidents.reopen_window: invalid duration "1 hour" (use e.g. 90s, 15m, 1h30m))",
          R"(calloutd.yml:10: routes[1].severity: "P1" is not one of MPI, HPI, ignore)",
          R"(calloutd.yml:11: routes[2].matchers[0]: unknown operator "=!" in 'severity=!"page"')",
          R"(calloutd.yml:13: routes[2].technology: "My SQL" is not a slug (use "my-sql"))",
          R"(calloutd.yml:16: receivers.alertmanager.bearer_token_file: cannot read "/nonexistent/t")",
          R"(calloutd.yml:17: colour: unknown key "colour")",
      }));
}

TEST(ConfigTest, YamlSyntaxErrorsHaveALine) {
  auto c = parse_config("web:\n  listen_address: [\n", "c.yml", "/");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].rfind("c.yml:", 0), 0u);
  EXPECT_NE(c.errors[0].find("invalid YAML"), std::string::npos);
}

// Found by fuzzing: a YAML complex key made yaml-cpp throw out of the reader.
TEST(ConfigTest, NonStringKeysAreErrorsNotCrashes) {
  auto c = parse_config("? [a, b]\n: 1\nweb:\n  ? {x: 1}\n  : 2\n", "c.yml", "/");
  EXPECT_EQ(c.errors, (std::vector<std::string>{"c.yml:1: keys must be plain strings",
                                                "c.yml:4: web: keys must be plain strings"}));
}

TEST(ConfigTest, RemoteSectionsAndTheirMistakes) {
  TempDir dir;
  write_file(dir.path() / "deploy_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
  write_file(dir.path() / "known_hosts", "github.com ssh-ed25519 AAAA\n");
  write_file(dir.path() / "token", "glpat-example\n");
  auto ssh = parse_config(R"(
repository:
  remote:
    url: git@github.com:team/callouts.git
    ssh_key_file: deploy_key
    known_hosts_file: known_hosts
    fetch_interval: 10s
)",
                          "c.yml", dir.str());
  ASSERT_TRUE(ssh.errors.empty()) << ssh.errors.front();
  EXPECT_EQ(ssh.config.remote.transport, RemoteConfig::Transport::ssh);
  EXPECT_EQ(ssh.config.remote.ssh_key_file, (dir.path() / "deploy_key").string());
  EXPECT_EQ(ssh.config.remote.fetch_interval, std::chrono::seconds(10));
  EXPECT_FALSE(ssh.config.remote.accept_new_host_key);

  auto https = parse_config(R"(
repository:
  remote:
    url: https://gitlab.example.com/sre/callouts.git
    token_file: token
    token_username: oauth2
)",
                            "c.yml", dir.str());
  ASSERT_TRUE(https.errors.empty()) << https.errors.front();
  EXPECT_EQ(https.config.remote.transport, RemoteConfig::Transport::https);
  EXPECT_EQ(https.config.remote.token, "glpat-example");
  EXPECT_EQ(https.config.remote.fetch_interval, std::chrono::seconds(30));  // the default

  auto errors = [&](const std::string& remote) {
    return parse_config("repository:\n  remote:\n" + remote, "c.yml", dir.str()).errors;
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(errors("    url: ssh://git@github.com/team/callouts.git\n"),
              ElementsAre("c.yml:3: repository.remote: an SSH remote needs ssh_key_file (a deploy "
                          "key with write access)",
                          "c.yml:3: repository.remote: an SSH remote needs known_hosts_file (the "
                          "server's host keys)"));
  EXPECT_THAT(errors("    url: git@github.com:t/c.git\n    ssh_key_file: missing_key\n"
                     "    known_hosts_file: missing_hosts\n"),
              ElementsAre("c.yml:4: repository.remote.ssh_key_file: cannot read \"" +
                              (dir.path() / "missing_key").string() + "\"",
                          "c.yml:5: repository.remote.known_hosts_file: \"" +
                              (dir.path() / "missing_hosts").string() +
                              "\" does not exist (create it with ssh-keyscan and check the "
                              "fingerprints, or set accept_new_host_key: true)"));
  EXPECT_THAT(errors("    url: https://x-access-token:ghp_secret@github.com/t/c.git\n"
                     "    token_file: token\n"),
              ElementsAre("c.yml:3: repository.remote.url: must not carry a password or token; "
                          "put the token in token_file"));
  EXPECT_THAT(errors("    url: http://git.example.com/t/c.git\n    token_file: token\n"),
              ElementsAre("c.yml:3: repository.remote.url: plain http would send the token in "
                          "clear; use https"));
  EXPECT_THAT(errors("    url: https://github.com/t/c.git\n"),
              ElementsAre("c.yml:3: repository.remote: an HTTPS remote needs token_file (a token "
                          "allowed to push)"));
  EXPECT_THAT(errors("    url: /srv/git/callouts.git\n    connect_timeout: 0s\n"),
              ElementsAre("c.yml:4: repository.remote.connect_timeout: must be at least 1s"));
  EXPECT_THAT(errors("    url: callouts.git\n    fetch_interval: 0s\n    colour: blue\n"),
              ElementsAre("c.yml:3: repository.remote.url: \"callouts.git\" is neither ssh://, "
                          "user@host:path, https:// nor an absolute path",
                          "c.yml:4: repository.remote.fetch_interval: must be at least 1s",
                          "c.yml:5: repository.remote.colour: unknown key \"colour\""));
}

TEST(ConfigTest, RepositoryMaintenanceAndItsMistakes) {
  auto defaults = parse_config("", "c.yml", ".");
  EXPECT_EQ(defaults.config.maintenance.gc_auto, 6700u);  // git's own gc.auto
  EXPECT_EQ(defaults.config.maintenance.interval, std::chrono::minutes(5));
  auto ok = parse_config(
      "repository:\n  maintenance:\n    gc_auto: 0\n    interval: 1h\n"
      "    size_limit_bytes: 5000000000\n",
      "c.yml", ".");
  ASSERT_TRUE(ok.errors.empty()) << ok.errors.front();
  EXPECT_EQ(ok.config.maintenance.gc_auto, 0u);  // gc off, the metrics still measured
  EXPECT_EQ(ok.config.maintenance.interval, std::chrono::hours(1));
  EXPECT_EQ(ok.config.maintenance.size_limit_bytes, 5000000000u);
  auto bad = parse_config(
      "repository:\n  maintenance:\n    gc_auto: many\n    interval: 0s\n"
      "    size_limit_bytes: 0\n    prune: now\n",
      "c.yml", ".");
  EXPECT_THAT(bad.errors,
              ::testing::ElementsAre(
                  "c.yml:3: repository.maintenance.gc_auto: \"many\" is not an integer >= 0",
                  "c.yml:4: repository.maintenance.interval: must be at least 1s",
                  "c.yml:5: repository.maintenance.size_limit_bytes: \"0\" is not an integer >= 1",
                  "c.yml:6: repository.maintenance.prune: unknown key \"prune\""));
}

TEST(ConfigTest, StateRetentionAndItsMinimum) {
  EXPECT_EQ(parse_config("", "c.yml", ".").config.state_retention, std::chrono::hours(24 * 30));
  auto ok = parse_config("repository:\n  state_retention: 90d\n", "c.yml", ".");
  ASSERT_TRUE(ok.errors.empty()) << ok.errors.front();
  EXPECT_EQ(ok.config.state_retention, std::chrono::hours(24 * 90));
  auto bad = parse_config("repository:\n  branch: main\n  state_retention: 24h\n", "c.yml", ".");
  EXPECT_THAT(bad.errors,
              ::testing::ElementsAre(
                  "c.yml:3: repository.state_retention: must be at least 48h (PagerDuty "
                  "redelivers events for 48 hours; a state pruned sooner would take a redelivery "
                  "for a new incident)"));
}

// Issue 25: `1000000d` (someone's "keep forever") passed, wrapped negative
// and pruned a group resolved seconds earlier. Refused with FILE:LINE now;
// forever is spelled `forever`.
TEST(ConfigTest, StateRetentionForeverAndDurationsPastTenYears) {
  auto forever = parse_config("repository:\n  state_retention: forever\n", "c.yml", ".");
  ASSERT_TRUE(forever.errors.empty()) << forever.errors.front();
  EXPECT_FALSE(forever.config.state_retention);
  auto bad = parse_config(
      "repository:\n  state_retention: 1000000d\nresponse_targets:\n  MPI:\n"
      "    acknowledge: 99999999999999999999s\n",
      "c.yml", ".");
  EXPECT_THAT(bad.errors,
              ::testing::ElementsAre(
                  "c.yml:2: repository.state_retention: duration \"1000000d\" is longer than 10 "
                  "years (3652d12h), the most a setting takes",
                  "c.yml:5: response_targets.MPI.acknowledge: duration "
                  "\"99999999999999999999s\" is longer than 10 years (3652d12h), the most a "
                  "setting takes"));
}

TEST(ConfigTest, WebLimitsAndTheirMistakes) {
  auto ok = parse_config(R"(web:
  read_header_timeout: 5s
  read_body_timeout: 1m
  idle_timeout: 2m
  write_timeout: 20s
  max_connections: 100
  max_connections_per_client: 8
  allow_unauthenticated: true
)",
                         "c.yml", "/");
  ASSERT_TRUE(ok.errors.empty()) << ok.errors.front();
  EXPECT_EQ(ok.config.http.header_timeout, std::chrono::seconds(5));
  EXPECT_EQ(ok.config.http.body_timeout, std::chrono::minutes(1));
  EXPECT_EQ(ok.config.http.idle_timeout, std::chrono::minutes(2));
  EXPECT_EQ(ok.config.http.write_timeout, std::chrono::seconds(20));
  EXPECT_EQ(ok.config.http.max_connections, 100u);
  EXPECT_EQ(ok.config.http.max_connections_per_client, 8u);
  EXPECT_TRUE(ok.config.allow_unauthenticated);
  auto bad = parse_config(R"(web:
  read_header_timeout: 0s
  max_connections: 0
  allow_unauthenticated: maybe
receivers:
  authenticate_reads: true
)",
                          "c.yml", "/");
  EXPECT_THAT(bad.errors, ::testing::ElementsAre(
                              "c.yml:2: web.read_header_timeout: must be at least 1s",
                              "c.yml:3: web.max_connections: \"0\" is not an integer >= 1",
                              "c.yml:4: web.allow_unauthenticated: \"maybe\" is not true or false",
                              "c.yml:6: receivers.authenticate_reads: needs credentials in "
                              "receivers.alertmanager (the reads ask for the same)"));
}

TEST(ConfigTest, ShippedExampleIsValid) {
  auto c = load_config(CALLOUTD_SOURCE_DIR "/config/calloutd.yml");
  EXPECT_TRUE(c.errors.empty()) << (c.errors.empty() ? "" : c.errors[0]);
}

TEST(ConfigTest, CheckConfigPrintsErrorsAndExitsOne) {
  TempDir dir;
  write_file(dir.path() / "bad.yml",
             "routes:\n  - severity: MPI\n    matchers: ['a=!\"b\"']\nweb: {nope: 1}\n");
  int status = 0;
  auto out = testing::run(testing::calloutd_binary() + " --check-config --config.file=" +
                              (dir.path() / "bad.yml").string() + " 2>&1",
                          &status);
  EXPECT_EQ(status, 1);
  std::string f = (dir.path() / "bad.yml").string();
  EXPECT_EQ(out, f + ":3: routes[0].matchers[0]: unknown operator \"=!\" in 'a=!\"b\"'\n" + f +
                     ":4: web.nope: unknown key \"nope\"\n");
  auto ok =
      testing::run(testing::calloutd_binary() + " --check-config --config.file=" CALLOUTD_SOURCE_DIR
                                                "/config/calloutd.yml 2>&1",
                   &status);
  EXPECT_EQ(status, 0) << ok;
  write_file(dir.path() / "one.yml", "routes:\n  - severity: MPI\n    matchers: ['a=\"b\"']\n");
  ok = testing::run(testing::calloutd_binary() + " --check-config --config.file=" +
                        (dir.path() / "one.yml").string() + " 2>&1",
                    &status);
  EXPECT_EQ(ok, (dir.path() / "one.yml").string() + ": OK (1 route)\n");
}

}  // namespace
}  // namespace calloutd
