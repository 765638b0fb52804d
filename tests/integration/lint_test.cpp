// calloutctl lint on a corpus of write-ups: two the daemon generated (clean),
// and hand-broken ones, each breaking one rule (plus traps that must stay
// clean). The expected output is tests/integration/lint/corpus.expected, line by line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using nlohmann::json;

const std::string k_dir = std::string(CALLOUTD_SOURCE_DIR) + "/tests/integration/lint";

std::string lint(const std::string& args, int* status) {
  return testing::run(
      "cd '" + k_dir + "' && " + testing::calloutctl_binary() + " lint " + args + " 2>&1", status);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST(LintCorpusTest, EveryRuleBrokenOnceAndTheTrapsStayClean) {
  int status = -1;
  auto out = lint("--repo corpus --config calloutd.yml", &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(lines(out), lines(testing::read_file(k_dir + "/corpus.expected")));
  // The daemon's own write-ups and the traps produce nothing.
  for (const char* clean :
       {"api/high-request-latency-2026-11-22", "unclassified/postgres-replication-lag-2026-11-22",
        "api/traps-clean-2026-11-22"}) {
    EXPECT_EQ(out.find(clean), std::string::npos) << clean;
    auto one = lint("--repo corpus --config calloutd.yml corpus/" + std::string(clean), &status);
    EXPECT_EQ(status, 0) << one;
    EXPECT_EQ(one, "calloutctl lint: 0 errors, 0 warnings in 2 files\n");
  }
}

// The built-in given names, and the repository's lint-allow.txt for the words
// among them that are not people here.
TEST(LintCorpusTest, GivenNamesAreNamesUnlessTheRepositoryAllowsTheWord) {
  int status = -1;
  auto out = lint("--repo corpus --config calloutd.yml corpus/api/traps-clean-2026-11-22", &status);
  EXPECT_EQ(status, 0) << out;
  // Without the allow list, "Max" mid-sentence is a name, and "Will", a rota
  // member's first name, may not start a sentence.
  testing::TempDir copy;
  testing::run("cp -r '" + k_dir + "/corpus/api' '" + copy.str() + "/'");
  out = testing::run("cd '" + k_dir + "' && " + testing::calloutctl_binary() + " lint --repo '" +
                         copy.str() + "' --config calloutd.yml '" + copy.str() +
                         "/api/traps-clean-2026-11-22' 2>&1",
                     &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(lines(out),
            (std::vector<std::string>{
                "api/traps-clean-2026-11-22/postmortem.md:21:1: error: name \"Will\" in Summary "
                "(names belong in Team roles and the Owner column only) [name]",
                "api/traps-clean-2026-11-22/postmortem.md:21:66: error: name \"Max\" in Summary "
                "(names belong in Team roles and the Owner column only; a word that is not a "
                "person here goes in the repository's lint-allow.txt) [name]",
                "calloutctl lint: 2 errors, 0 warnings in 2 files"}));
}

TEST(LintCorpusTest, NamesComeFromTheRotaAndFromTeamRoles) {
  int status = -1;
  // Without the config, "Ana Diaz" is still a name: a Team roles holder in the repository.
  auto out = lint("--repo corpus corpus/api/name-in-narrative-2026-11-22", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("postmortem.md:33:1: error: name \"Ana Diaz\" in Trigger"), std::string::npos)
      << out;
}

TEST(LintCorpusTest, JsonAndGithubFormats) {
  int status = -1;
  auto out = lint("--repo corpus --config calloutd.yml --format=json", &status);
  EXPECT_EQ(status, 1);
  auto j = json::parse(out);
  EXPECT_EQ(j["errors"], 29);
  EXPECT_EQ(j["warnings"], 7);
  EXPECT_EQ(j["files"], 49);
  auto first = j["diagnostics"][4];
  EXPECT_EQ(first["file"], "api/action-columns-2026-11-22/postmortem.md");
  EXPECT_EQ(first["line"], 45);
  EXPECT_EQ(first["severity"], "error");
  EXPECT_EQ(first["rule"], "action-items");

  out = lint("--repo corpus --config calloutd.yml --format github corpus/api/pronoun-he-2026-11-22",
             &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(lines(out), (std::vector<std::string>{
                            "::error file=api/pronoun-he-2026-11-22/postmortem.md,line=37,col=6,"
                            "title=calloutctl lint (pronoun)::pronoun \"he\" in Resolution (write "
                            "what the system did, not who)",
                            "calloutctl lint: 1 error, 0 warnings in 2 files"}));
}

TEST(LintCorpusTest, WarningsAloneExitZeroAndBadUsageIsTold) {
  int status = -1;
  auto out = lint("--repo corpus corpus/api/blame-words-2026-11-22", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("0 errors, 5 warnings"), std::string::npos) << out;
  lint("--format=xml", &status);
  EXPECT_EQ(status, 2);
  out = lint("corpus/api/no-such-folder", &status);
  EXPECT_EQ(status, 3);
  EXPECT_NE(out.find("no such file or folder \"corpus/api/no-such-folder\""), std::string::npos);
  out = lint("--help", &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("Exit status:"), std::string::npos);
  out = lint("--format=xml", &status);
  EXPECT_EQ(out, "calloutctl lint: --format \"xml\" is not text, json or github\n");
  out = lint("--templates /nonexistent/templates", &status);
  EXPECT_EQ(status, 3);
  EXPECT_EQ(out.rfind("calloutctl lint: ", 0), 0u) << out;
  EXPECT_NE(out.find("/nonexistent/templates"), std::string::npos) << out;
  out = lint("--config /nonexistent/calloutd.yml", &status);
  EXPECT_EQ(status, 3);
  EXPECT_NE(out.find("/nonexistent/calloutd.yml"), std::string::npos) << out;
}

// --templates names the templates the keys come from; a file named on the
// command line that is not a write-up is counted but not checked.
TEST(LintCorpusTest, TemplatesAndOtherFiles) {
  int status = -1;
  auto out = lint("--repo corpus --config calloutd.yml --templates '" +
                      std::string(CALLOUTD_SOURCE_DIR) + "/templates'",
                  &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(lines(out), lines(testing::read_file(k_dir + "/corpus.expected")));
  out = lint("--repo corpus calloutd.yml", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, "calloutctl lint: 0 errors, 0 warnings in 1 file\n");
}

// Each format in full for one folder, and a diagnostic without a line.
TEST(LintCorpusTest, FormatsInFull) {
  int status = -1;
  auto out = lint("--repo corpus --format json corpus/api/pronoun-he-2026-11-22", &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(
      json::parse(out),
      (json{
          {"errors", 1},
          {"warnings", 0},
          {"files", 2},
          {"diagnostics",
           {{{"file", "api/pronoun-he-2026-11-22/postmortem.md"},
             {"line", 37},
             {"column", 6},
             {"severity", "error"},
             {"rule", "pronoun"},
             {"message", "pronoun \"he\" in Resolution (write what the system did, not who)"}}}}}));
  EXPECT_EQ(out, json::parse(out).dump(2) + "\n");
  out = lint("--repo corpus --format github corpus/api/no-postmortem-2026-11-22", &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(out,
            "::error file=api/no-postmortem-2026-11-22/callout.md,title=calloutctl lint "
            "(layout)::no postmortem.md beside the callout (the template is never removed)\n"
            "calloutctl lint: 1 error, 0 warnings in 1 file\n");
  out = lint("--repo corpus corpus/api/they-warning-2026-11-22", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out,
            "api/they-warning-2026-11-22/postmortem.md:25:27: warning: pronoun \"they\" in Impact "
            "(if it names a person, write the role or the system instead) [pronoun]\n"
            "calloutctl lint: 0 errors, 1 warning in 2 files\n");
}

}  // namespace
}  // namespace calloutd

namespace calloutd {
namespace {

// The pre-commit hook stops a commit that stages a broken write-up.
TEST(InstallHooksTest, PreCommitHookLintsStagedWriteUps) {
  testing::TempDir dir;
  auto repo = dir.path() / "callouts";
  std::filesystem::create_directories(repo);
  int status = -1;
  testing::run("git init -q -b main '" + repo.string() + "'", &status);
  ASSERT_EQ(status, 0);
  auto copy = [&](const std::string& from, const std::string& to) {
    std::filesystem::create_directories(repo / to);
    for (const char* f : {"callout.md", "postmortem.md"}) {
      testing::write_file(repo / to / f, testing::read_file(k_dir + "/corpus/" + from + "/" + f));
    }
  };
  auto commit = [&](const std::string& what) {
    return testing::run("cd '" + repo.string() +
                            "' && git add -A && git -c user.name=E -c user.email=e@example.com "
                            "commit -qm '" +
                            what + "' 2>&1",
                        &status);
  };
  auto out = testing::run(
      testing::calloutctl_binary() + " install-hooks --repo '" + repo.string() + "' 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  copy("api/high-request-latency-2026-11-22", "api/high-request-latency-2026-11-22");
  out = commit("a clean write-up");
  EXPECT_EQ(status, 0) << out;
  copy("api/pronoun-he-2026-11-22", "api/pronoun-he-2026-11-22");
  out = commit("a write-up with a pronoun");
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("api/pronoun-he-2026-11-22/postmortem.md:37:6: error: pronoun \"he\""),
            std::string::npos)
      << out;
  EXPECT_EQ(testing::run("git -C '" + repo.string() + "' rev-list --count HEAD"), "1\n");
  // Someone else's hook is not replaced without --force.
  testing::write_file(repo / ".git" / "hooks" / "pre-commit", "#!/bin/sh\nexit 0\n");
  out = testing::run(
      testing::calloutctl_binary() + " install-hooks --repo '" + repo.string() + "' 2>&1", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("exists and was not written by calloutctl (--force replaces it)"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace calloutd
