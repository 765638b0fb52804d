// The postmortem lifecycle on the daemon binary: engineers edit the Status,
// the API moves it, publishing needs a finished review.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/writeup/markdown.hpp"
#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using nlohmann::json;
using testing::DaemonProcess;
using testing::eventually;
using testing::git;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

class PostmortemLifecycleTest : public ::testing::Test {
 protected:
  PostmortemLifecycleTest() {
    write_file(dir.path() / "calloutd.yml", "repository:\n  path: callouts\n  poll_interval: 1s\n");
    daemon = std::make_unique<DaemonProcess>(
        dir.path(), std::vector<std::string>{"--config.file=calloutd.yml"});
    auto r = daemon->post_alertmanager(
        testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(eventually(10, [&] {
      return std::filesystem::exists(pm) && git(repo, "status --porcelain").empty();
    }));
    incident = json::parse(daemon->client()->Get("/api/v1/incidents")->body)["incidents"][0]["id"];
  }
  void commit_by_hand(const std::string& text, const std::string& message) {
    write_file(pm, text);
    int status = 0;
    git(repo, "-c user.name=Engineer -c user.email=e@example.com commit -qam '" + message + "'",
        &status);
    ASSERT_EQ(status, 0);
  }
  httplib::Result move_to(const std::string& status) {
    return daemon->client()->Post("/api/v1/incidents/" + incident + "/postmortem/status",
                                  json{{"status", status}}.dump(), "application/json");
  }
  std::string committed(const std::string& file) {
    return git(repo, "show main:" + folder + "/" + file);
  }

  TempDir dir;
  std::filesystem::path repo = dir.path() / "callouts";
  std::string folder = "unclassified/postgres-replication-lag-2026-11-22";
  std::filesystem::path pm = repo / folder / "postmortem.md";
  std::unique_ptr<DaemonProcess> daemon;
  std::string incident;
};

TEST_F(PostmortemLifecycleTest, EditsAndApiMoveThePostmortemThroughReview) {
  // An engineer puts the postmortem in review by editing the Status key while
  // it is all n/a: the edit stands (the file is the truth), the callout's
  // timeline says what the review gate missed, and it is counted.
  commit_by_hand(markdown::set_key(read_file(pm), "Status", "in review"), "postmortem in review");
  ASSERT_TRUE(eventually(
      15,
      [&] {
        return committed("callout.md")
                   .find(
                       "Postmortem - postmortem moved from draft to in review by an edit, past the "
                       "review gate: Summary: not written yet (still n/a); Impact: not written "
                       "yet") != std::string::npos;
      }))
      << daemon->log() << committed("callout.md");
  EXPECT_TRUE(eventually(10, [&] {
    return testing::metric(
               daemon->client()->Get("/metrics")->body,
               "calloutd_postmortem_review_gate_bypassed_total{status=\"in review\"}") == 1;
  }));

  // Publishing is refused while the review is unfinished, with each missing item.
  auto refused = move_to("published");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409);
  auto answer = json::parse(refused->body);
  EXPECT_EQ(answer["error"], "the postmortem cannot move to \"published\"");
  // Five narrative keys, Authors, Action Items, Reviewers, five unticked boxes.
  ASSERT_EQ(answer["missing"].size(), 13u) << answer.dump();
  EXPECT_EQ(answer["missing"][0], "Summary: not written yet (still n/a)");
  EXPECT_EQ(answer["missing"][5], "Authors: none named (roles, not names, until the review)");
  EXPECT_EQ(answer["missing"][6], "Action Items: none, and no sentence saying why none are needed");
  EXPECT_EQ(answer["missing"][7], "Review: no reviewers named");
  EXPECT_EQ(answer["missing"][8],
            "Review checklist: \"Incident data collected for posterity\" is not ticked");
  EXPECT_EQ(markdown::key_text(committed("postmortem.md"), "Status"), "in review");

  // Written, reviewed, ticked: the API publishes it.
  ASSERT_TRUE(eventually(5, [&] { return git(repo, "status --porcelain").empty(); }));
  auto text = read_file(pm);
  for (const char* key : {"Summary", "Impact", "Root causes", "Trigger", "Resolution"}) {
    text = markdown::set_key(text, key, "The replica fell behind the primary's write load.");
  }
  text = markdown::set_key(text, "Authors", "Incident Lead, Operations");
  text = markdown::set_key(text, "Action Items",
                           "None needed: the lag cleared when the batch job ended.\n\n"
                           "| Action Item | Type | Owner | Ticket | Due | Status |\n"
                           "| --- | --- | --- | --- | --- | --- |");
  text = markdown::set_list_item(text, "Review", "Reviewers", "Ana, Bo");
  for (auto pos = text.find("- [ ] "); pos != std::string::npos; pos = text.find("- [ ] ")) {
    text.replace(pos, 6, "- [x] ");
  }
  commit_by_hand(text, "review done");
  auto accepted = move_to("published");
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 202) << accepted->body;
  ASSERT_TRUE(eventually(
      15, [&] { return markdown::key_text(committed("postmortem.md"), "Status") == "published"; }));
  EXPECT_NE(
      committed("callout.md").find("calloutd API - postmortem moved from in review to published"),
      std::string::npos);
  // The metric of pending postmortems follows.
  EXPECT_TRUE(eventually(10, [&] {
    return daemon->client()
               ->Get("/metrics")
               ->body.find("calloutd_postmortems_pending{status=\"in review\"} 0") !=
           std::string::npos;
  }));
}

TEST_F(PostmortemLifecycleTest, BadRequestsAreRefused) {
  EXPECT_EQ(move_to("finished")->status, 409);
  EXPECT_EQ(json::parse(move_to("finished")->body)["missing"][0],
            "\"finished\" is not a postmortem status (draft, in review, published)");
  auto unknown = daemon->client()->Post("/api/v1/incidents/am-nope/postmortem/status",
                                        json{{"status", "in review"}}.dump(), "application/json");
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["error"], "no incident \"am-nope\"");
  auto bad = daemon->client()->Post("/api/v1/incidents/" + incident + "/postmortem/status", "{}",
                                    "application/json");
  EXPECT_EQ(bad->status, 400);
  auto draft_to_published = move_to("published");
  EXPECT_EQ(json::parse(draft_to_published->body)["missing"][0],
            "the postmortem is \"draft\": it goes to review before it is published");
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// The roles API on the same kind of incident: who works it, and handovers.
TEST_F(PostmortemLifecycleTest, RolesApiTakesAndHandsOverRoles) {
  auto roles = [&](const json& body) {
    return daemon->client()->Post("/api/v1/incidents/" + incident + "/roles", body.dump(),
                                  "application/json");
  };
  auto joined = roles({{"action", "join"}, {"role", "Operations"}, {"person", "Ana Example"}});
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->status, 202) << joined->body;
  EXPECT_EQ(json::parse(joined->body)["status"], "accepted");
  ASSERT_TRUE(eventually(10, [&] {
    return committed("callout.md").find("- Operations: Ana Example\n") != std::string::npos;
  }));
  EXPECT_NE(committed("callout.md").find("Team roles - Operations taken"), std::string::npos);
  EXPECT_TRUE(eventually(10, [&] {
    auto m = daemon->client()->Get("/metrics")->body;
    return m.find(R"(calloutd_responders_on_shift{role="Operations"} 1)") != std::string::npos &&
           m.find(R"(calloutd_responder_work_seconds{responder="Ana Example"})") !=
               std::string::npos;
  }));
  auto commits_before = git(repo, "rev-list --count main");
  EXPECT_EQ(roles({{"action", "join"}, {"role", "Operations"}, {"person", "Ana Example"}})->status,
            202);  // a retry
  auto handover = roles(
      {{"action", "handover"}, {"role", "Operations"}, {"person", "Ana Example"}, {"to", "Bo"}});
  EXPECT_EQ(handover->status, 202);
  ASSERT_TRUE(eventually(
      10, [&] { return committed("callout.md").find("- Operations: Bo\n") != std::string::npos; }));
  auto callout = committed("callout.md");
  EXPECT_NE(callout.find("- Next Incident Lead: n/a (handover due by "), std::string::npos);
  EXPECT_NE(
      callout.find("Team roles - handover: Operations passes to the next holder (see Team roles)"),
      std::string::npos);
  EXPECT_EQ(std::stoi(git(repo, "rev-list --count main")),
            std::stoi(commits_before) + 1);  // the retry added nothing

  EXPECT_EQ(roles({{"action", "join"}, {"role", "Chef"}, {"person", "x"}})->status, 400);
  EXPECT_EQ(
      json::parse(
          roles({{"action", "swap"}, {"role", "Operations"}, {"person", "x"}})->body)["error"],
      "action \"swap\" is not one of join, leave, handover");
  EXPECT_EQ(
      json::parse(
          roles({{"action", "handover"}, {"role", "Operations"}, {"person", "Bo"}})->body)["error"],
      "to: missing (who takes over)");
  auto unknown = daemon->client()->Post(
      "/api/v1/incidents/am-nope/roles",
      json{{"action", "join"}, {"role", "Operations"}, {"person", "x"}}.dump(), "application/json");
  EXPECT_EQ(unknown->status, 404);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// A shift started through the API 4 hours ago: the limit is crossed without
// waiting, the notice lands in the callout and the metrics, and a restart
// keeps it all (computed from the recorded start, not from uptime).
TEST_F(PostmortemLifecycleTest, ShiftStartedInThePastCrossesTheLimit) {
  auto four_hours_ago =
      format_rfc3339_millis(std::chrono::system_clock::now() - std::chrono::minutes{241});
  auto r = daemon->client()->Post(
      "/api/v1/incidents/" + incident + "/roles",
      json{{"action", "join"}, {"role", "Operations"}, {"person", "Ana"}, {"at", four_hours_ago}}
          .dump(),
      "application/json");
  ASSERT_EQ(r->status, 202) << r->body;
  ASSERT_TRUE(eventually(15, [&] {
    return committed("callout.md")
               .find(
                   "calloutd - limit reached: the lone Operations engineer has worked 4h without a "
                   "break; call the Secondary (or hand over) now") != std::string::npos;
  })) << daemon->log();
  auto metrics_hold = [&] {
    return eventually(10, [&] {
      auto m = daemon->client()->Get("/metrics")->body;
      return m.find("calloutd_responders_over_limit 1") != std::string::npos &&
             m.find(R"(calloutd_responders_on_shift{role="Operations"} 1)") != std::string::npos;
    });
  };
  EXPECT_TRUE(metrics_hold());
  EXPECT_NE(daemon->client()->Get("/metrics")->body.find("calloutd_work_limit_breaches_total 1"),
            std::string::npos);
  auto entries = [&] {
    auto c = committed("callout.md");
    std::size_t n = 0;
    for (auto p = c.find("limit reached"); p != std::string::npos;
         p = c.find("limit reached", p + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(entries(), 1u);
  // Restart: same shift, no second notice.
  daemon.reset();
  daemon = std::make_unique<DaemonProcess>(dir.path(),
                                           std::vector<std::string>{"--config.file=calloutd.yml"});
  EXPECT_TRUE(metrics_hold());
  // The 4-hour check has run since the restart (it set the gauge). Wait
  // until it has run again on a later tick (the work time it publishes
  // grows) and every journaled event is applied: only then count.
  auto work_seconds = [&] {
    return testing::metric(daemon->client()->Get("/metrics")->body,
                           R"(calloutd_responder_work_seconds{responder="Ana"})");
  };
  auto first = work_seconds();
  EXPECT_GT(first, 4 * 3600 - 60);
  EXPECT_TRUE(eventually(15, [&] { return work_seconds() > first; })) << daemon->log();
  EXPECT_TRUE(testing::all_applied(repo / ".git" / "calloutd"));
  EXPECT_EQ(entries(), 1u);
  EXPECT_EQ(daemon->client()
                ->Post("/api/v1/incidents/" + incident + "/roles",
                       json{{"action", "join"},
                            {"role", "Secondary"},
                            {"person", "Bo"},
                            {"at", "3000-01-01T00:00:00Z"}}
                           .dump(),
                       "application/json")
                ->status,
            400);
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// An engineer writes a name into Team roles and commits: that person now
// holds the role (timeline entry, shift, metrics).
TEST_F(PostmortemLifecycleTest, NamesWrittenIntoTeamRolesTakeTheRole) {
  auto path = repo / folder / "callout.md";
  write_file(path,
             markdown::set_list_item(read_file(path), "Team roles", "Operations", "Ana Example"));
  int status = 0;
  git(repo, "-c user.name=Engineer -c user.email=e@example.com commit -qam 'taking the callout'",
      &status);
  ASSERT_EQ(status, 0);
  ASSERT_TRUE(eventually(15, [&] {
    return committed("callout.md").find("Team roles - Operations taken") != std::string::npos;
  })) << daemon->log();
  EXPECT_NE(committed("callout.md").find("- Operations: Ana Example\n"), std::string::npos);
  EXPECT_TRUE(eventually(10, [&] {
    return daemon->client()
               ->Get("/metrics")
               ->body.find(R"(calloutd_responders_on_shift{role="Operations"} 1)") !=
           std::string::npos;
  }));
}

}  // namespace
}  // namespace calloutd
