#include "daemon/config/reload.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

Config parsed(const std::string& text) {
  auto loaded = parse_config(text, "calloutd.yml", "/");
  EXPECT_TRUE(loaded.errors.empty());
  return loaded.config;
}

TEST(ReloadTest, ReloadableSettingsAreNotRestartOnly) {
  Config running;
  auto loaded = parsed(R"(
routes:
  - matchers: ['service="db"']
    severity: MPI
    technology: postgres
incidents:
  reopen_window: 2h
shifts:
  work_limit: 3h
web:
  max_body_bytes: 4096
  allow_unauthenticated: true
)");
  EXPECT_TRUE(restart_only_changes(running, loaded).empty());
}

TEST(ReloadTest, RestartOnlySettingsAreNamedAndKeepTheirRunningValues) {
  Config running;
  auto loaded = parsed(R"(
web:
  listen_address: 0.0.0.0:9095
  max_connections: 64
  idle_timeout: 5s
repository:
  path: /srv/callouts
  journal_dir: /var/lib/journal
  maintenance:
    gc_auto: 100
  remote:
    url: /srv/team.git
incidents:
  reopen_window: 2h
)");
  EXPECT_EQ(restart_only_changes(running, loaded),
            (std::vector<std::string>{"web.listen_address (--web.listen-address)",
                                      "web.idle_timeout", "web.max_connections",
                                      "repository.path (--repo.path)", "repository.journal_dir",
                                      "repository.maintenance.gc_auto", "repository.remote.url"}));
  auto kept = keep_restart_only(running, loaded);
  EXPECT_EQ(kept.listen_address, running.listen_address);
  EXPECT_EQ(kept.http.max_connections, running.http.max_connections);
  EXPECT_EQ(kept.http.idle_timeout, running.http.idle_timeout);
  EXPECT_EQ(kept.repo_path, running.repo_path);
  EXPECT_EQ(kept.journal_dir, running.journal_dir);
  EXPECT_FALSE(kept.remote.enabled());
  // What a reload applies comes from the file.
  EXPECT_EQ(kept.reopen_window, std::chrono::hours(2));
  EXPECT_TRUE(restart_only_changes(running, kept).empty());
}

}  // namespace
}  // namespace calloutd
