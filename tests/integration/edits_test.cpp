// People's edits on the daemon binary: an engineer resolves a callout by
// editing its Status and committing. The daemon closes the incident for
// everything it serves (API, calloutctl, the index, the gauges), ends the
// shifts on it at the commit's time, writes no 4-hour notice into it
// afterwards, and records the edit once.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/base/timefmt.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/writeup/markdown.hpp"
#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::eventually;
using testing::git;
using testing::metric;
using testing::occurrences;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

// The 4-hour rule with the default limit; a 1-second warning lead, so that
// the only notice is the limit itself.
constexpr const char* k_config = R"(
repository:
  path: callouts
  poll_interval: 1s
routes:
  - matchers: ['severity=~"critical|page"']
    severity: MPI
  - matchers: ['severity="warning"', 'service="api"']
    severity: HPI
    technology: api
shifts:
  warning_lead: 1s
)";

class EditsTest : public ::testing::Test {
 protected:
  EditsTest() { write_file(dir.path() / "calloutd.yml", k_config); }

  void start() {
    daemon = std::make_unique<DaemonProcess>(
        dir.path(), std::vector<std::string>{"--config.file=calloutd.yml"});
  }
  // Opens the callout of `sample` and returns its incident id.
  std::string open(const std::string& sample, const std::string& folder) {
    EXPECT_EQ(daemon->post_alertmanager(testing::sample(sample))->status, 200);
    EXPECT_TRUE(eventually(10, [&] {
      return std::filesystem::exists(repo / folder / "callout.md") &&
             git(repo, "status --porcelain").empty();
    }));
    return markdown::key_text(committed(folder, "callout.md"), "Incident Number").value_or("");
  }
  // `person` alone in Operations since `ago` before now.
  void join(const std::string& incident, const std::string& person, std::chrono::seconds ago) {
    auto since = format_rfc3339_millis(std::chrono::system_clock::now() - ago);
    auto r = daemon->client()->Post(
        "/api/v1/incidents/" + incident + "/roles",
        json{{"action", "join"}, {"role", "Operations"}, {"person", person}, {"at", since}}.dump(),
        "application/json");
    ASSERT_EQ(r->status, 202) << r->body;
  }
  std::string committed(const std::string& folder, const std::string& file) {
    return git(repo, "show main:" + folder + "/" + file);
  }
  std::vector<std::string> listed_by_api() {
    std::vector<std::string> folders;
    auto answer = daemon->client()->Get("/api/v1/incidents");
    EXPECT_EQ(answer->status, 200) << answer->body;
    // Kept in a variable: a range-for would not keep the parsed document alive.
    auto listed = json::parse(answer->body);
    for (const auto& i : listed["incidents"]) {
      folders.push_back(i["folder"]);
    }
    return folders;
  }
  // The incidents `calloutctl [OPTIONS] list [ARGS] --format json` lists.
  json calloutctl_list(const std::string& options, const std::string& args) {
    return json::parse(testing::run(testing::calloutctl_binary() + " " + options + " list " + args +
                                    " --format json"))["incidents"];
  }
  int commits() { return std::stoi(git(repo, "rev-list --count main")); }

  TempDir dir;
  std::filesystem::path repo = dir.path() / "callouts";
  std::unique_ptr<DaemonProcess> daemon;
  const std::string api = "api/high-request-latency-2026-11-22";
  const std::string pg = "unclassified/postgres-replication-lag-2026-11-22";
};

TEST_F(EditsTest, ACalloutResolvedByHandIsClosedEverywhere) {
  start();
  auto api_incident = open("am-0.25-firing-two-alerts.json", api);
  auto pg_incident = open("am-0.34-format-firing-nested-route-ADAPTED.json", pg);
  // Both alone in Operations, 30 s before the 4-hour limit.
  const auto almost = std::chrono::hours(4) - std::chrono::seconds(30);
  join(api_incident, "Ann Lee", almost);
  join(pg_incident, "Bob Ray", almost);
  ASSERT_TRUE(eventually(10, [&] {
    return committed(api, "callout.md").find("- Operations: Ann Lee") != std::string::npos &&
           committed(pg, "callout.md").find("- Operations: Bob Ray") != std::string::npos;
  }));

  // The engineer resolves the api callout by hand (from the committed file,
  // committing only it: the test's own git commands may have kept the daemon
  // from updating other files of the working tree).
  auto path = repo / api / "callout.md";
  write_file(path, markdown::set_key(committed(api, "callout.md"), "Status", "resolved"));
  int status = 0;
  git(repo,
      "-c user.name=Engineer -c user.email=e@example.com commit -q -m 'api: resolved' -- " +
          path.string(),
      &status);
  ASSERT_EQ(status, 0);
  auto edit = git(repo, "rev-parse --short=12 HEAD");
  edit.pop_back();
  auto edited_at = parse_rfc3339(git(repo, "log -1 --format=%cI HEAD").substr(0, 25));
  ASSERT_TRUE(edited_at);
  ASSERT_TRUE(eventually(10, [&] {
    return committed(api, "callout.md")
               .find(
                   "callout.md - callout resolved in the file: Status set to resolved by hand "
                   "(commit " +
                   edit + ")") != std::string::npos;
  })) << daemon->log();

  // Closed for the API (published right after the commit), calloutctl
  // (through the API and from the files) and the index.
  ASSERT_TRUE(eventually(10, [&] { return listed_by_api() == std::vector<std::string>{pg}; }))
      << daemon->log();
  for (const auto& listed : {calloutctl_list("--url " + daemon->url(), ""),
                             calloutctl_list("", "--repo " + repo.string())}) {
    ASSERT_EQ(listed.size(), 1u) << listed;
    EXPECT_EQ(listed[0]["folder"], pg);
  }
  auto index = git(repo, "show main:README.md");
  auto open_table = index.substr(index.find("## Open incidents"));
  open_table = open_table.substr(0, open_table.find("## Postmortems pending"));
  EXPECT_EQ(open_table.find("(" + api + "/callout.md)"), std::string::npos) << index;
  EXPECT_NE(open_table.find("(" + pg + "/callout.md)"), std::string::npos) << index;
  EXPECT_NE(index.find("(" + api + "/postmortem.md) | draft |"), std::string::npos) << index;
  // Ann's shift ended at the commit's time.
  auto shifts =
      ShiftBook::parse(git(repo, "show main:.calloutd/shifts.json"), std::chrono::minutes(15));
  ASSERT_NE(shifts.find("Ann Lee"), nullptr);
  EXPECT_EQ(shifts.find("Ann Lee")->holds, 0);
  EXPECT_EQ(shifts.find("Ann Lee")->idle_since, edited_at);

  // Past the limit: Bob's callout gets the notice; Ann's resolved one does not.
  ASSERT_TRUE(eventually(60, [&] {
    return committed(pg, "callout.md").find("limit reached") != std::string::npos;
  })) << daemon->log();
  EXPECT_EQ(committed(api, "callout.md").find("limit reached"), std::string::npos);
  EXPECT_EQ(committed(api, "callout.md").find("calloutd - handover due"), std::string::npos);
  ASSERT_TRUE(eventually(10, [&] {
    auto m = daemon->client()->Get("/metrics")->body;
    return metric(m, "calloutd_responders_over_limit") == 1 &&
           metric(m, R"(calloutd_responders_on_shift{role="Operations"})") == 1;
  }));
  auto m = daemon->client()->Get("/metrics")->body;
  EXPECT_EQ(metric(m, R"(calloutd_incidents_open{severity="HPI",technology="api"})"), 0);
  EXPECT_EQ(metric(m, R"(calloutd_incidents_open{severity="MPI",technology="unclassified"})"), 1);

  // The old firing notification again (Alertmanager's repeat): still resolved.
  ASSERT_EQ(daemon->post_alertmanager(testing::sample("am-0.25-firing-two-alerts.json"))->status,
            200);
  ASSERT_TRUE(testing::all_applied(repo / ".git" / "calloutd"));
  EXPECT_EQ(listed_by_api(), std::vector<std::string>{pg});
  EXPECT_EQ(markdown::key_text(committed(api, "callout.md"), "Status"), "resolved");

  // A restart reads everything again: the edit is not applied a second time.
  auto before = commits();
  daemon.reset();
  start();
  ASSERT_TRUE(testing::all_applied(repo / ".git" / "calloutd"));
  EXPECT_EQ(commits(), before);
  EXPECT_EQ(occurrences(committed(api, "callout.md"), "resolved in the file"), 1u);
  EXPECT_EQ(listed_by_api(), std::vector<std::string>{pg});
}

}  // namespace
}  // namespace calloutd
