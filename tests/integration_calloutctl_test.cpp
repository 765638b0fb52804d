// calloutctl against the daemon binary on loopback: the on-call rota
// pre-fills roles at open, and `calloutctl shift` moves them through the API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::eventually;
using testing::git;
using testing::TempDir;
using testing::write_file;

class CalloutctlTest : public ::testing::Test {
 protected:
  CalloutctlTest() {
    write_file(dir.path() / "token", "s3cret-token\n");
    write_file(dir.path() / "wrong-token", "not-it\n");
    write_file(dir.path() / "calloutd.yml", R"(repository:
  path: callouts
  poll_interval: 1s
receivers:
  alertmanager:
    bearer_token_file: token
rota:
  - name: storage
    technologies: [unclassified]
    time_zone: Europe/London
    start: 2026-01-05
    primary: [Ana Diaz]
    secondary: [Ben Ode]
)");
    daemon = std::make_unique<DaemonProcess>(
        dir.path(), std::vector<std::string>{"--config.file=calloutd.yml"});
    auto r = daemon->post_alertmanager(
        testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"),
        {{"Authorization", "Bearer s3cret-token"}});
    EXPECT_EQ(r->status, 200);
    httplib::Headers auth{{"Authorization", "Bearer s3cret-token"}};
    // The engine lists the incident once the commit is in (the ref moves first).
    EXPECT_TRUE(eventually(10, [&] {
      auto list = json::parse(daemon->client()->Get("/api/v1/incidents", auth)->body);
      if (list["incidents"].empty() || committed().empty()) {
        return false;
      }
      incident = list["incidents"][0]["id"];
      return true;
    }));
  }
  std::string committed() {
    int status = 0;
    auto text = git(repo, "show main:" + folder + "/callout.md", &status);
    return status == 0 ? text : "";
  }
  // Runs calloutctl with the daemon's URL and `token_file`; stdout and stderr.
  std::string ctl(const std::string& args, int* status, const std::string& token_file = "token") {
    return testing::run(testing::calloutctl_binary() + " --url " + daemon->url() +
                            " --token-file '" + (dir.path() / token_file).string() + "' " + args +
                            " 2>&1",
                        status);
  }

  TempDir dir;
  std::filesystem::path repo = dir.path() / "callouts";
  std::string folder = "unclassified/postgres-replication-lag-2026-11-22";
  std::unique_ptr<DaemonProcess> daemon;
  std::string incident;
};

TEST_F(CalloutctlTest, RotaPrefillsAndShiftCommandsMoveRoles) {
  auto callout = committed();
  EXPECT_NE(callout.find("- Operations: Ana Diaz\n"), std::string::npos) << callout;
  EXPECT_NE(callout.find("- Secondary: Ben Ode\n"), std::string::npos);
  EXPECT_NE(callout.find("on-call rota - Operations and Secondary pre-filled from the on-call "
                         "rota \"storage\" (see Team roles)"),
            std::string::npos);

  int status = -1;
  auto out = ctl("shift end " + incident + " --role Secondary --person 'Ben Ode'", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out.rfind("accepted: end Secondary on " + incident, 0), 0u) << out;
  ASSERT_TRUE(eventually(10, [&] {
    return committed().find("- Secondary: n/a\n") != std::string::npos;
  })) << committed();

  // "Incident Lead" is the template's "Current Incident Lead".
  out = ctl("shift start " + incident + " --role 'Incident Lead' --person 'Dee Ray'", &status);
  EXPECT_EQ(status, 0) << out;
  ASSERT_TRUE(eventually(10, [&] {
    return committed().find("- Current Incident Lead: Dee Ray\n") != std::string::npos;
  })) << committed();

  // Alone in Operations since 4 hours ago: the limit is crossed at once.
  out = ctl("shift handover " + incident + " --from 'Ana Diaz' --to 'Cai Lu' --ago 241m", &status);
  EXPECT_EQ(status, 0) << out;
  ASSERT_TRUE(eventually(15, [&] {
    return committed().find("calloutd - limit reached: the lone Operations engineer") !=
           std::string::npos;
  })) << committed();
  callout = committed();
  EXPECT_NE(callout.find("- Operations: Cai Lu\n"), std::string::npos) << callout;
  EXPECT_NE(callout.find("- Next Incident Lead: n/a (handover due by "), std::string::npos);
  EXPECT_TRUE(eventually(10, [&] {
    auto m = daemon->client()->Get("/metrics", {{"Authorization", "Bearer s3cret-token"}})->body;
    return m.find("calloutd_responders_over_limit 1") != std::string::npos;
  }));
}

TEST_F(CalloutctlTest, ErrorsAreClearAndExitCodesDistinguishThem) {
  int status = -1;
  auto out = ctl("shift start " + incident + " --person Ana", &status, "wrong-token");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("calloutctl: shift start: missing or wrong credentials"), std::string::npos)
      << out;
  out = ctl("shift start am-nope --person Ana", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("no incident \"am-nope\""), std::string::npos) << out;
  out = ctl("shift start " + incident + " --role Chef --person Ana", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("role \"Chef\" is not one of Incident Lead, Operations"), std::string::npos)
      << out;
  out = ctl("shift start " + incident, &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("--person is required"), std::string::npos) << out;
  out = ctl("shift start " + incident + " --person Ana --ago soon", &status);
  EXPECT_EQ(status, 2);
  out = ctl("shift dance " + incident + " --person Ana", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("unknown shift command \"dance\""), std::string::npos) << out;
  // Nothing of the above reached the callout.
  EXPECT_EQ(committed().find("Team roles - "), std::string::npos) << committed();

  out = testing::run(testing::calloutctl_binary() +
                         " --url http://127.0.0.1:" + std::to_string(testing::free_port()) +
                         " shift start " + incident + " --person Ana 2>&1",
                     &status);
  EXPECT_EQ(status, 3);
  EXPECT_NE(out.find("cannot reach calloutd at http://127.0.0.1:"), std::string::npos) << out;
  out = testing::run(testing::calloutctl_binary() + " --help", &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("Exit codes:"), std::string::npos);
}

}  // namespace
}  // namespace calloutd
