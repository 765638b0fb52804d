// calloutctl against the daemon binary on loopback: the on-call rota
// pre-fills roles at open, and `calloutctl shift` moves them through the API.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <regex>

#include <nlohmann/json.hpp>

#include "daemon/base/timefmt.hpp"
#include "daemon/writeup/markdown.hpp"
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
  EXPECT_EQ(out, "accepted: end Secondary on " + incident +
                     " (the daemon records it in the callout's timeline and Team roles)\n");
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
  EXPECT_TRUE(std::regex_match(
      out, std::regex("accepted: handover Operations on " + incident +
                      " at [0-9-]{10}T[0-9:.]{12}Z \\(the daemon records it in the callout's "
                      "timeline and Team roles\\)\n")))
      << out;
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

// `shift start --ago` for the person who already holds the role moves their
// start earlier: the 4-hour rule counts from there.
TEST_F(CalloutctlTest, StartingEarlierMovesTheShiftStart) {
  int status = -1;
  auto out = ctl("shift end " + incident + " --role Secondary --person 'Ben Ode'", &status);
  ASSERT_EQ(status, 0) << out;
  ASSERT_TRUE(eventually(10, [&] {
    return committed().find("- Secondary: n/a\n") != std::string::npos;
  })) << committed();
  out = ctl("shift start " + incident + " --person 'Ana Diaz' --ago 241m", &status);
  EXPECT_EQ(status, 0) << out;
  ASSERT_TRUE(eventually(15, [&] {
    return committed().find("calloutd - limit reached: the lone Operations engineer") !=
           std::string::npos;
  })) << committed();
  EXPECT_NE(committed().find("Team roles - Operations held from this time on (the start moved "
                             "earlier; see Team roles)"),
            std::string::npos)
      << committed();
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
  // Leaving a role someone else holds, or nobody: refused, naming the holder.
  out = ctl("shift end " + incident + " --role Secondary --person 'Ana Diaz'", &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(out, "calloutctl: shift end: Ana Diaz does not hold Secondary on " + incident +
                     "; Ben Ode does\n");
  out = ctl("shift end " + incident + " --role 'Incident Lead' --person 'Ana Diaz'", &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(out, "calloutctl: shift end: Ana Diaz does not hold Current Incident Lead on " +
                     incident + "; nobody does\n");
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

namespace calloutd {
namespace {

// calloutctl new through the daemon, list from the daemon, new straight into
// a repository when no daemon answers, search in a bare repository.
TEST_F(CalloutctlTest, NewListAndSearch) {
  int status = -1;
  auto out =
      ctl("new --technology MySQL --issue 'replication lag' --severity MPI "
          "--summary 'Replica 3 is 40 minutes behind, reported by the billing team'",
          &status);
  ASSERT_EQ(status, 0) << out;
  ASSERT_EQ(out.rfind("accepted: incident man-", 0), 0u) << out;
  auto id = out.substr(std::string("accepted: incident ").size(), 14);
  const std::string mysql =
      "mysql/replication-lag-" + format_date(std::chrono::system_clock::now());
  auto manual = [&] {
    int st = 0;
    auto text = git(repo, "show main:" + mysql + "/callout.md", &st);
    return st == 0 ? text : "";
  };
  ASSERT_TRUE(eventually(10, [&] { return !manual().empty(); })) << daemon->log();
  EXPECT_NE(manual().find("Replica 3 is 40 minutes behind, reported by the billing team"),
            std::string::npos);
  EXPECT_NE(manual().find("calloutctl - callout opened by hand as MPI (reported, not alerted)"),
            std::string::npos)
      << manual();
  EXPECT_NE(manual().find("\n" + id + "\n"), std::string::npos);

  ASSERT_TRUE(eventually(10, [&] { return ctl("list", &status).find(id) != std::string::npos; }));
  out = ctl("list", &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("HANDOVER DUE"), std::string::npos) << out;
  EXPECT_NE(out.find(incident), std::string::npos) << out;
  EXPECT_NE(out.find("Ana Diaz"), std::string::npos) << out;  // the rota's Operations
  auto listed = nlohmann::json::parse(ctl("list --format json", &status))["incidents"];
  ASSERT_EQ(listed.size(), 2u);
  out = ctl("new --technology mysql --issue lag --severity P1 --summary x", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("--severity \"P1\" is not MPI or HPI"), std::string::npos);

  // No daemon at the URL: straight into a working copy, as a second occurrence.
  auto copy = dir.path() / "copy";
  testing::run("git clone -q '" + repo.string() + "' '" + copy.string() + "'", &status);
  ASSERT_EQ(status, 0);
  auto nobody = "http://127.0.0.1:" + std::to_string(testing::free_port());
  out = testing::run(testing::calloutctl_binary() + " --url " + nobody + " new --repo '" +
                         copy.string() +
                         "' --technology mysql --issue 'Replication lag' --severity HPI "
                         "--summary 'Lag again after the backup window' 2>&1",
                     &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("committed " + mysql + "-2"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(copy / (mysql + "-2") / "postmortem.md"));

  // search, in a bare repository made from that copy.
  auto bare = dir.path() / "bare.git";
  testing::run("git clone -q --bare '" + copy.string() + "' '" + bare.string() + "'", &status);
  ASSERT_EQ(status, 0);
  auto search = [&](const std::string& args) {
    return testing::run(
        testing::calloutctl_binary() + " search --repo '" + bare.string() + "' " + args + " 2>&1",
        &status);
  };
  out = search("'REPLICA'");
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out.rfind("mysql/replication-lag (2 callouts)\n  " + mysql + "-2  HPI active", 0), 0u)
      << out;
  EXPECT_NE(out.find("3 callouts in 2 issues"), std::string::npos) << out;  // + the Postgres one
  out = search("--label alertname=PostgresReplicationLag");
  EXPECT_NE(out.find("unclassified/postgres-replication-lag (1 callout)"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("mysql/"), std::string::npos) << out;
  out = search("--technology mysql --since 2199-01-01");
  EXPECT_EQ(out, "0 callouts in 0 issues\n");
  search("--since yesterday");
  EXPECT_EQ(status, 2);

  // With the daemon answering at --url, --repo still names where to write.
  auto other = dir.path() / "other";
  testing::run("git clone -q '" + repo.string() + "' '" + other.string() + "'", &status);
  ASSERT_EQ(status, 0);
  out = ctl("new --repo '" + other.string() +
                "' --technology mysql --issue 'Replication lag' --severity HPI "
                "--summary 'Lag while the daemon runs'",
            &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("committed " + mysql + "-2 (incident man-"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(other / (mysql + "-2") / "callout.md"));
  git(repo, "show main:" + mysql + "-2/callout.md", &status);
  EXPECT_NE(status, 0);  // nothing went through the daemon
}

// A role change journaled but not applied when the daemon died is applied
// at the next start (it used to replay as a postmortem status change).
TEST_F(CalloutctlTest, JournaledRoleChangeIsReplayedAsARoleChange) {
  daemon.reset();  // SIGTERM: everything accepted is applied
  auto journal = repo / ".git" / "calloutd" / "journal.jsonl";
  auto text = testing::read_file(journal);
  auto last = nlohmann::json::parse(text.substr(text.rfind('\n', text.size() - 2) + 1));
  nlohmann::json body{{"kind", "roles"},          {"incident_id", incident}, {"action", "join"},
                      {"role", "Communications"}, {"person", "Dee Ray"},     {"to", ""}};
  nlohmann::json record = nlohmann::json::object();
  record["seq"] = last["seq"].get<int>() + 1;
  record["received"] = format_rfc3339_millis(std::chrono::system_clock::now());
  record["source"] = "api";
  record["body"] = body.dump();
  record["verified"] = false;
  testing::write_file(journal, text + record.dump() + "\n");
  daemon = std::make_unique<DaemonProcess>(dir.path(),
                                           std::vector<std::string>{"--config.file=calloutd.yml"});
  EXPECT_TRUE(eventually(10, [&] {
    return committed().find("- Communications: Dee Ray\n") != std::string::npos;
  })) << committed();
}

// An acknowledgement journaled but not applied when the daemon died is
// applied at the next start: the resolve and ack endpoints journal through
// the same path as the roles and postmortem endpoints (source "api").
TEST_F(CalloutctlTest, JournaledAcknowledgementIsReplayed) {
  daemon.reset();
  auto journal = repo / ".git" / "calloutd" / "journal.jsonl";
  auto text = testing::read_file(journal);
  auto last = nlohmann::json::parse(text.substr(text.rfind('\n', text.size() - 2) + 1));
  nlohmann::json record = nlohmann::json::object();
  record["seq"] = last["seq"].get<int>() + 1;
  record["received"] = format_rfc3339_millis(std::chrono::system_clock::now());
  record["source"] = "api";
  record["body"] = json{{"kind", "ack"}, {"incident_id", incident}, {"person", ""}}.dump();
  record["verified"] = false;
  testing::write_file(journal, text + record.dump() + "\n");
  daemon = std::make_unique<DaemonProcess>(dir.path(),
                                           std::vector<std::string>{"--config.file=calloutd.yml"});
  EXPECT_TRUE(eventually(10, [&] {
    return committed().find("calloutd API - incident acknowledged by hand\n") != std::string::npos;
  })) << committed();
}

// `calloutctl postmortem status` through the API: the review gate's 409
// prints each missing item; a written postmortem moves.
TEST_F(CalloutctlTest, PostmortemStatusThroughTheApi) {
  int status = -1;
  auto out = ctl("postmortem status " + incident + " in-review", &status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_EQ(out.rfind("calloutctl: postmortem status: the postmortem cannot move to \"in "
                      "review\":\n  - Summary: not written yet (still n/a)\n",
                      0),
            0u)
      << out;
  EXPECT_NE(out.find("\n  - Review: no reviewers named\n"), std::string::npos) << out;
  out = ctl("postmortem status " + incident + " finished", &status);
  EXPECT_EQ(status, 2) << out;
  EXPECT_EQ(out.rfind("calloutctl postmortem: \"finished\" is not draft, in-review or "
                      "published\nUsage:",
                      0),
            0u)
      << out;

  const auto pm = repo / folder / "postmortem.md";
  auto text = testing::read_file(pm);
  for (const char* key : {"Summary", "Impact", "Root causes", "Trigger", "Resolution"}) {
    text = markdown::set_key(text, key, "The replica fell behind the primary's write load.");
  }
  text = markdown::set_key(text, "Authors", "Incident Lead, Operations");
  text = markdown::set_key(text, "Action Items",
                           "None needed: the lag cleared when the batch job ended.\n\n"
                           "| Action Item | Type | Owner | Ticket | Due | Status |\n"
                           "| --- | --- | --- | --- | --- | --- |");
  text = markdown::set_list_item(text, "Review", "Reviewers", "Incident Lead");
  write_file(pm, text);
  git(repo, "-c user.name=Engineer -c user.email=e@example.com commit -qam 'postmortem written'",
      &status);
  ASSERT_EQ(status, 0);
  out = ctl("postmortem status " + incident + " in-review", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "accepted: the postmortem of " + incident +
                     " moves to \"in review\" (the daemon records it in the callout's timeline)\n");
  EXPECT_TRUE(eventually(10, [&] {
    return markdown::key_text(git(repo, "show main:" + folder + "/postmortem.md"), "Status") ==
           "in review";
  })) << daemon->log();
}

// `calloutctl ack` and `calloutctl resolve` for a callout opened by hand:
// the first acknowledgement counts, a resolution states the response
// targets; an alert-driven callout whose alerts fire is not resolved by hand.
TEST_F(CalloutctlTest, AckAndResolveACalloutOpenedByHand) {
  int status = -1;
  auto out =
      ctl("new --technology mysql --issue 'replication lag' --severity MPI "
          "--summary 'Replica 3 is behind'",
          &status);
  ASSERT_EQ(status, 0) << out;
  auto id = out.substr(std::string("accepted: incident ").size(), 14);
  const std::string mysql =
      "mysql/replication-lag-" + format_date(std::chrono::system_clock::now()) + "/callout.md";
  auto manual = [&] {
    int st = 0;
    auto text = git(repo, "show main:" + mysql, &st);
    return st == 0 ? text : "";
  };
  ASSERT_TRUE(eventually(10, [&] { return !manual().empty(); })) << daemon->log();

  out = ctl("ack " + id + " --person 'Cai Lu'", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(
      out, "accepted: " + id + " acknowledged (the daemon records it in the callout's timeline)\n");
  ASSERT_TRUE(eventually(10, [&] {
    return manual().find("- Operations: Cai Lu\n") != std::string::npos;
  })) << manual();
  EXPECT_NE(manual().find(" - calloutd API - incident acknowledged by hand; Operations taken (see "
                          "Team roles)\n"),
            std::string::npos)
      << manual();
  out = ctl("ack " + id + " --person 'Dee Ray'", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out.rfind("unchanged: " + id + " was acknowledged at ", 0), 0u) << out;

  out = ctl("resolve " + incident, &status);  // its alert still fires
  EXPECT_EQ(status, 1) << out;
  EXPECT_EQ(out.rfind("calloutctl: resolve: " + incident +
                          " is not resolved by hand while its alerts fire; resolve or silence "
                          "them in Alertmanager:\n  - ",
                      0),
            0u)
      << out;
  out = ctl("resolve am-nope", &status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_EQ(out, "calloutctl: resolve: no incident \"am-nope\"\n");

  out = ctl("resolve " + id + " --note 'the billing team sees no lag now'", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "accepted: " + id +
                     " resolved (the daemon records it in the callout's timeline and Status)\n");
  ASSERT_TRUE(eventually(10, [&] { return markdown::key_text(manual(), "Status") == "resolved"; }))
      << manual();
  EXPECT_TRUE(std::regex_search(
      manual(), std::regex(" - calloutd API - callout resolved by hand: the billing team sees no "
                           "lag now; open for [0-9ms]+ \\(target 4h\\), acknowledged after "
                           "[0-9ms]+ \\(target 15m\\); Status set to resolved\n")))
      << manual();
  EXPECT_EQ(manual().find("handover due by"), std::string::npos) << manual();
  int lint_status = -1;
  auto lint = testing::lint_repository(repo, &lint_status);  // the daemon's files pass its lint
  EXPECT_EQ(lint_status, 0) << lint;
  EXPECT_NE(lint.find(" 0 errors, 0 warnings in "), std::string::npos) << lint;
  out = ctl("resolve " + id, &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "unchanged: " + id + " is resolved already\n");
}

// The roles API refuses a leave by someone who does not hold the role,
// naming the holder; nothing is journaled.
TEST_F(CalloutctlTest, RolesApiRefusesALeaveBySomeoneElse) {
  auto leave = daemon->client()->Post(
      "/api/v1/incidents/" + incident + "/roles", {{"Authorization", "Bearer s3cret-token"}},
      json{{"action", "leave"}, {"role", "Secondary"}, {"person", "Ana Diaz"}}.dump(),
      "application/json");
  ASSERT_TRUE(leave);
  EXPECT_EQ(leave->status, 409) << leave->body;
  EXPECT_EQ(json::parse(leave->body)["error"],
            "Ana Diaz does not hold Secondary on " + incident + "; Ben Ode does");
  auto journal = testing::read_file(repo / ".git" / "calloutd" / "journal.jsonl");
  EXPECT_EQ(journal.find(R"(\"leave\")"), std::string::npos) << journal;
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// calloutctl with no daemon answering at --url: new, list and search straight
// on a repository, and every command's command-line errors, texts pinned.
class CalloutctlOfflineTest : public ::testing::Test {
 protected:
  CalloutctlOfflineTest() {
    int status = -1;
    testing::run("git init -q -b main '" + repo.string() + "'", &status);
    EXPECT_EQ(status, 0);
  }
  // Runs calloutctl; its standard output, its standard error in `err`.
  std::string ctl(const std::string& args, int* status, std::string* err = nullptr) {
    auto err_file = dir.path() / "stderr";
    auto out = testing::run(testing::calloutctl_binary() + " --url " + nobody + " " + args +
                                " 2>'" + err_file.string() + "'",
                            status);
    if (err != nullptr) {
      *err = testing::read_file(err_file);
    }
    return out;
  }
  // Opens a callout with `new --repo`; its incident id.
  std::string open(const std::string& summary) {
    int status = -1;
    auto out = ctl("new --repo '" + repo.string() +
                       "' --technology MySQL --issue 'Replication lag' --severity HPI --summary '" +
                       summary + "'",
                   &status);
    EXPECT_EQ(status, 0) << out;
    std::smatch m;
    EXPECT_TRUE(
        std::regex_match(out, m,
                         std::regex("committed " + mysql +
                                    "(-2)? \\(incident (man-[0-9a-z]+), commit [0-9a-f]{12}\\); "
                                    "written straight into the repository, so no daemon "
                                    "tracks it\n")))
        << out;
    return m.size() > 2 ? m[2].str() : "";
  }

  TempDir dir;
  std::filesystem::path repo = dir.path() / "callouts";
  std::string nobody = "http://127.0.0.1:" + std::to_string(testing::free_port());
  std::string date = format_date(std::chrono::system_clock::now());
  std::string mysql = "mysql/replication-lag-" + date;
};

TEST_F(CalloutctlOfflineTest, NewListAndSearchOnARepository) {
  int status = -1;
  EXPECT_EQ(ctl("list --repo '" + repo.string() + "'", &status), "no open incidents\n");
  EXPECT_EQ(status, 0);
  auto first = open("Lag after the backup window");
  auto second = open("Lag again");
  ASSERT_TRUE(std::filesystem::exists(repo / (mysql + "-2") / "callout.md"));

  auto listed = json::parse(ctl("list --format json --repo '" + repo.string() + "'", &status));
  EXPECT_EQ(status, 0);
  json want = json::array();
  // In the tree's order, where "-2" sorts before the end of a name; opened
  // when the callout's first timeline entry says, not at midnight.
  for (const auto& [id, folder] : {std::pair{second, mysql + "-2"}, std::pair{first, mysql}}) {
    std::smatch opening;
    auto text = testing::read_file(repo / folder / "callout.md");
    ASSERT_TRUE(std::regex_search(text, opening,
                                  std::regex("## Incident timeline\n\n- ([0-9-]{10}) "
                                             "([0-9:]{8}) UTC - calloutctl - callout opened")))
        << text;
    want.push_back({{"id", id},
                    {"folder", folder},
                    {"severity", "HPI"},
                    {"opened_at", opening[1].str() + "T" + opening[2].str() + ".000Z"},
                    {"roles", json::object()}});
  }
  EXPECT_EQ(listed, (json{{"incidents", want}}));
  auto text = ctl("list --repo '" + repo.string() + "'", &status);
  EXPECT_EQ(status, 0);
  char line[512];
  std::snprintf(line, sizeof line, "%-16s %-4s %-7s %-48s %-20s %-20s %s\n", "INCIDENT", "SEV",
                "AGE", "FOLDER", "OPERATIONS", "SECONDARY", "HANDOVER DUE");
  ASSERT_EQ(text.rfind(line, 0), 0u) << text;
  EXPECT_TRUE(
      std::regex_match(text.substr(std::strlen(line)),
                       std::regex(second + " +HPI +[01]m +" + mysql + "-2 +n/a +n/a +n/a\n" +
                                  first + " +HPI +[01]m +" + mysql + " +n/a +n/a +n/a\n")))
      << text;

  // The first resolved by hand, with a resolution in its postmortem.
  auto callout = testing::read_file(repo / mysql / "callout.md");
  callout.replace(callout.find("## Status\n\nactive"), 17, "## Status\n\nresolved");
  testing::write_file(repo / mysql / "callout.md", callout);
  auto postmortem = testing::read_file(repo / mysql / "postmortem.md");
  postmortem.replace(postmortem.find("## Resolution\n\nn/a"), 18,
                     "## Resolution\n\nThe replica was rebuilt.");
  testing::write_file(repo / mysql / "postmortem.md", postmortem);
  testing::run("cd '" + repo.string() +
                   "' && git -c user.name=E -c user.email=e@example.com commit -qam resolved",
               &status);
  ASSERT_EQ(status, 0);
  listed = json::parse(ctl("list --format json --repo '" + repo.string() + "'", &status));
  ASSERT_EQ(listed["incidents"].size(), 1u) << listed;
  EXPECT_EQ(listed["incidents"][0]["id"], second);

  std::string err;
  EXPECT_EQ(ctl("search --repo '" + repo.string() + "' lag", &status, &err),
            "mysql/replication-lag (2 callouts)\n"
            "  " +
                mysql +
                "-2  HPI active, postmortem draft\n"
                "    Lag again\n"
                "  " +
                mysql +
                "  HPI resolved, postmortem draft\n"
                "    Lag after the backup window\n"
                "    resolution: The replica was rebuilt.\n"
                "2 callouts in 1 issue\n");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err, "");
  auto found =
      json::parse(ctl("search --repo '" + repo.string() + "' --issue lag --format json", &status));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(found, (json{{"callouts", 2},
                         {"groups",
                          {{{"issue", "mysql/replication-lag"},
                            {"count", 2},
                            {"callouts",
                             {{{"folder", mysql + "-2"},
                               {"date", date},
                               {"severity", "HPI"},
                               {"status", "active"},
                               {"postmortem", "draft"},
                               {"summary", "Lag again"},
                               {"resolution", "n/a"}},
                              {{"folder", mysql},
                               {"date", date},
                               {"severity", "HPI"},
                               {"status", "resolved"},
                               {"postmortem", "draft"},
                               {"summary", "Lag after the backup window"},
                               {"resolution", "The replica was rebuilt."}}}}}}}}));
  EXPECT_EQ(ctl("search --repo '" + repo.string() + "' backup --technology postgres", &status),
            "0 callouts in 0 issues\n");
  EXPECT_EQ(ctl("search --repo '" + repo.string() + "' --label alertname=X", &status),
            "0 callouts in 0 issues\n");
}

// `new --repo` goes around a technology folder or a callout folder that
// someone committed as a symlink, as the engine does: nothing is written
// where the link points, the links stay as committed.
TEST_F(CalloutctlOfflineTest, NewGoesAroundACommittedSymlink) {
  TempDir outside;
  int status = -1;
  std::filesystem::create_directories(repo / "postgres");
  std::filesystem::create_symlink(outside.path(), repo / "mysql");
  const std::string pg = "postgres/replication-lag-" + date;
  std::filesystem::create_symlink(outside.path(), repo / pg);
  git(repo, "add -A", &status);
  ASSERT_EQ(status, 0);
  git(repo, "-c user.name=Eng -c user.email=e@example.com commit -qm links", &status);
  ASSERT_EQ(status, 0);
  const auto links = git(repo, "ls-tree -r main");

  for (const auto& [technology, folder] :
       {std::pair{"MySQL", "mysql-calloutd/replication-lag-" + date},
        std::pair{"postgres", pg + "-2"}}) {
    std::string err;
    auto out = ctl("new --repo '" + repo.string() + "' --technology " + technology +
                       " --issue 'Replication lag' --severity HPI --summary x",
                   &status, &err);
    EXPECT_EQ(status, 0) << out << err;
    EXPECT_EQ(out.rfind("committed " + folder + " (incident ", 0), 0u) << out << err;
    EXPECT_NE(git(repo, "show main:" + folder + "/callout.md", &status), "");
    EXPECT_EQ(status, 0) << folder;
  }
  EXPECT_TRUE(std::filesystem::is_empty(outside.path()));
  EXPECT_TRUE(std::filesystem::is_symlink(repo / "mysql"));
  EXPECT_TRUE(std::filesystem::is_symlink(repo / pg));
  for (const auto& link : {std::string("mysql"), pg}) {
    auto entry = git(repo, "ls-tree main " + link);
    EXPECT_EQ(entry.substr(0, 6), "120000") << entry;
    EXPECT_NE(links.find(entry), std::string::npos) << entry;
  }
}

// --url, --token-file, --version and -h are taken after the command word too.
TEST_F(CalloutctlOfflineTest, GlobalOptionsAfterTheCommand) {
  const auto bin = testing::calloutctl_binary();
  int status = -1;
  auto out = testing::run(bin + " list --url " + nobody + " 2>&1", &status);
  EXPECT_EQ(status, 3) << out;
  EXPECT_EQ(out.rfind("calloutctl: list: cannot reach calloutd at " + nobody, 0), 0u) << out;
  out = testing::run(bin + " shift end am-1 --person Ana --token-file=/nonexistent/token 2>&1",
                     &status);
  EXPECT_EQ(status, 3);
  EXPECT_EQ(out, "calloutctl: cannot read the token file \"/nonexistent/token\"\n");
  for (const char* args : {"--version", "list --version", "render x --version"}) {
    out = testing::run(bin + " " + args + " 2>&1", &status);
    EXPECT_EQ(status, 0) << args;
    EXPECT_TRUE(std::regex_match(out, std::regex("calloutctl [0-9]+\\.[0-9]+\\.[0-9]+\n")))
        << args << ": " << out;
  }
  out = testing::run(bin + " -h 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out.rfind("Usage: calloutctl [--url URL]", 0), 0u) << out;
  out = testing::run(bin + " list -h 2>&1", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out.rfind("Usage: calloutctl list", 0), 0u) << out;
}

// The pre-commit hook runs calloutctl from PATH; only when it is not in PATH
// does the hook name the binary that installed it.
TEST_F(CalloutctlOfflineTest, HookRunsCalloutctlFromPath) {
  const auto bin = std::filesystem::canonical(testing::calloutctl_binary());
  const auto hook = repo / ".git" / "hooks" / "pre-commit";
  int status = -1;
  auto out = testing::run("PATH='" + bin.parent_path().string() + "':/usr/bin:/bin '" +
                              bin.string() + "' install-hooks --repo '" + repo.string() + "' 2>&1",
                          &status);
  ASSERT_EQ(status, 0) << out;
  auto text = testing::read_file(hook);
  EXPECT_NE(text.find("\nexec calloutctl lint --repo "), std::string::npos) << text;
  EXPECT_EQ(text.find(bin.parent_path().string()), std::string::npos) << text;

  out = testing::run(
      "PATH=/usr/bin:/bin '" + bin.string() + "' install-hooks --repo '" + repo.string() + "' 2>&1",
      &status);
  ASSERT_EQ(status, 0) << out;
  text = testing::read_file(hook);
  EXPECT_NE(text.find("\nexec '" + bin.string() + "' lint --repo "), std::string::npos) << text;
  EXPECT_NE(text.find("# calloutctl was not in PATH when this hook was installed"),
            std::string::npos)
      << text;
}

TEST_F(CalloutctlOfflineTest, CommandLineErrorsAreExact) {
  struct Case {
    std::string args;
    int exit;
    std::string err;  // the whole of standard error, or its start when it ends in "Usage:"
  };
  const std::string nowhere = (dir.path() / "nowhere").string();
  const std::string daemon_down = "cannot reach calloutd at " + nobody;
  std::vector<Case> cases{
      {"new --technology mysql --issue lag --severity HPI", 2,
       "calloutctl new: --summary is required\nUsage:"},
      {"new --technology mysql --issue lag --severity P1 --summary x", 2,
       "calloutctl new: --severity \"P1\" is not MPI or HPI\n"},
      {"new --technology mysql --issue lag --severity HPI --summary x --repo '" + nowhere + "'", 3,
       "calloutctl new: \"" + nowhere + "\" is not a git repository\n"},
      {"new --technology mysql --issue lag --severity HPI --summary x", 3,
       "calloutctl: new: " + daemon_down},
      {"list", 3, "calloutctl: list: " + daemon_down},
      {"list --repo '" + nowhere + "'", 3,
       "calloutctl list: \"" + nowhere + "\" is not a git repository\n"},
      {"search a b", 2, "calloutctl search: one TEXT at most\nUsage:"},
      {"search --label alertname", 2,
       "calloutctl search: --label \"alertname\" is not KEY=VALUE\n"},
      {"search --label =x", 2, "calloutctl search: --label \"=x\" is not KEY=VALUE\n"},
      {"search --since yesterday", 2,
       "calloutctl search: --since \"yesterday\" is not a date (YYYY-MM-DD)\n"},
      {"search --repo '" + nowhere + "'", 3,
       "calloutctl search: \"" + nowhere + "\" is not a git repository\n"},
      {"shift start", 2,
       "calloutctl shift: expected start, end or handover and an incident\nUsage:"},
      {"shift handover am-1 --from Ana", 2,
       "calloutctl shift: --from and --to are required\nUsage:"},
      {"shift end am-1 --person Ana --at 2026-11-22T03:00:00Z --ago 1h", 2,
       "calloutctl shift: --at and --ago exclude each other\nUsage:"},
      {"shift end am-1 --person Ana --at tomorrow", 2,
       "calloutctl shift: --at: \"tomorrow\" is not an RFC 3339 time\nUsage:"},
      {"shift end am-1 --person Ana --ago soon", 2, "calloutctl shift: --ago: "},
      {"shift end am-1 --person Ana --at 2026-11-22T03:00:00Z", 3,
       "calloutctl: shift end: " + daemon_down},
      {"postmortem status am-1", 2,
       "calloutctl postmortem: expected status, an incident and draft, in-review or "
       "published\nUsage:"},
      {"postmortem status am-1 published", 3, "calloutctl: postmortem status: " + daemon_down},
      {"resolve", 2, "calloutctl resolve: expected one incident\nUsage:"},
      {"resolve am-1 --note x", 3, "calloutctl: resolve: " + daemon_down},
      {"ack am-1 am-2", 2, "calloutctl ack: expected one incident\nUsage:"},
      {"ack am-1 --person Ana", 3, "calloutctl: ack: " + daemon_down},
  };
  for (const auto& c : cases) {
    int status = -1;
    std::string err;
    auto out = ctl(c.args, &status, &err);
    EXPECT_EQ(status, c.exit) << c.args << "\n" << err;
    EXPECT_EQ(out, "") << c.args;
    if (c.err.ends_with("Usage:") || !c.err.ends_with("\n")) {
      EXPECT_EQ(err.rfind(c.err, 0), 0u) << c.args << "\n" << err;
    } else {
      EXPECT_EQ(err, c.err) << c.args;
    }
  }
}

}  // namespace
}  // namespace calloutd
