#include "daemon/scanner/scanner.hpp"

#include <gtest/gtest.h>

#include "daemon/engine/engine.hpp"
#include "daemon/writeup/markdown.hpp"
#include "receivers/alertmanager.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;

using testing::FakeRepository;

class ScannerTest : public ::testing::Test {
 protected:
  ScannerTest() {
    auto g = receivers::parse_alertmanager(
        testing::sample("am-0.34-format-firing-nested-route-ADAPTED.json"));
    folder = engine.apply(Event{1, at("2026-11-22T03:50:00Z"), *g}).folder;
  }
  void edit_postmortem(const std::string& rows, const std::string& status = "draft") {
    auto text = repo.file(folder + "/postmortem.md");
    text = markdown::set_key(text, "Status", status);
    auto header = text.find("| --- | --- | --- | --- | --- | --- |\n") + 38;
    text.insert(header, rows);
    repo.commit_by_hand(folder + "/postmortem.md", text);
  }

  Config config;
  FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine{config, repo, templates};
  Metrics metrics;
  Scanner scanner{repo, metrics, std::chrono::hours{24}};
  std::string folder;
};

TEST_F(ScannerTest, CountsWhatTheFilesSay) {
  auto t = scanner.scan(repo.head(), at("2026-11-22T12:00:00Z"));
  EXPECT_EQ(t.open_incidents,
            (std::map<std::pair<std::string, std::string>, int>{{{"MPI", "unclassified"}, 1}}));
  // The incident is active: its draft is not pending yet (as in the README index).
  EXPECT_TRUE(t.postmortems_pending.empty());
  EXPECT_TRUE(t.items_open.empty());
  EXPECT_EQ(t.callouts, (std::map<std::pair<std::string, std::string>, int>{
                            {{"unclassified", "postgres-replication-lag"}, 1}}));

  edit_postmortem(
      "| a | prevent | Ana | n/a | 2026-11-01 | TODO |\n| b | prevent | Bo | n/a | 2026-12-01 | "
      "TODO |\n"
      "| c | process | Bo | n/a | 2026-11-01 | DONE |\n",
      "in review");
  t = scanner.scan(repo.head(), at("2026-11-22T12:00:00Z"));
  EXPECT_EQ(t.items_open,
            (std::map<std::pair<std::string, std::string>, int>{{{"unclassified", "prevent"}, 2}}));
  EXPECT_EQ(t.items_overdue,
            (std::map<std::pair<std::string, std::string>, int>{{{"unclassified", "prevent"}, 1}}));
  EXPECT_TRUE(t.postmortems_pending.empty());
  // The day after b's due date, b is overdue too: time alone changes the totals.
  t = scanner.scan(repo.head(), at("2026-12-02T00:00:01Z"));
  EXPECT_EQ(t.items_overdue,
            (std::map<std::pair<std::string, std::string>, int>{{{"unclassified", "prevent"}, 2}}));
  auto exposition = metrics.serialize();
  EXPECT_NE(exposition.find(
                R"(calloutd_action_items_overdue{technology="unclassified",type="prevent"} 2)"),
            std::string::npos);
}

TEST_F(ScannerTest, EngineersStatusEditAndOverduePostmortem) {
  auto callout = repo.file(folder + "/callout.md");
  callout = markdown::set_key(callout, "Status", "resolved");
  callout = markdown::add_list_entry(callout, "Incident timeline", at("2026-11-22T05:00:00Z"),
                                     "2026-11-22 05:00:00 UTC - Operations - fixed by hand",
                                     markdown::Order::newest_first);
  repo.commit_by_hand(folder + "/callout.md", callout);
  auto t = scanner.scan(repo.head(), at("2026-11-23T04:00:00Z"));
  EXPECT_TRUE(t.open_incidents.empty());
  EXPECT_EQ(t.postmortems_overdue, 0);  // 23 h after resolving
  EXPECT_EQ(t.postmortems_pending, (std::map<std::string, int>{{"draft", 1}}));
  t = scanner.scan(repo.head(), at("2026-11-23T05:00:01Z"));
  EXPECT_EQ(t.postmortems_overdue, 1);
  edit_postmortem("", "published");
  t = scanner.scan(repo.head(), at("2026-11-23T05:00:01Z"));
  EXPECT_EQ(t.postmortems_overdue, 0);
  EXPECT_TRUE(t.postmortems_pending.empty());
}

TEST_F(ScannerTest, UnreadableFilesAreCountedNotIgnored) {
  edit_postmortem("| a | prevent | Ana | n/a | someday | TODO |\n");
  auto t = scanner.scan(repo.head(), at("2026-11-22T12:00:00Z"));
  EXPECT_EQ(t.files_with_problems, (std::map<std::string, int>{{"postmortem", 1}}));
  EXPECT_EQ(t.items_open.size(), 1u);  // still counted as open
  repo.remove_by_hand(folder + "/callout.md");
  t = scanner.scan(repo.head(), at("2026-11-22T12:00:00Z"));
  EXPECT_TRUE(t.open_incidents.empty());
  EXPECT_TRUE(t.files_with_problems.empty());
}

}  // namespace
}  // namespace calloutd
