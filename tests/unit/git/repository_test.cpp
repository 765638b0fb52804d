// GitRepository against real repositories (libgit2 and the git command line).
#include "daemon/git/repository.hpp"

#include <git2.h>
#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::read_file;
using testing::run;
using testing::TempDir;
using testing::write_file;

class RepositoryTest : public ::testing::Test {
 protected:
  std::string git(const std::string& args, int* status = nullptr) {
    return run("git -C " + path() + " " + args + " 2>&1", status);
  }
  std::string path() const { return (dir.path() / "callouts").string(); }

  TempDir dir;
  GitRepository repo{
      {(dir.path() / "callouts").string(), "main", "calloutd", "calloutd@localhost"}};
};

TEST_F(RepositoryTest, InitialisesAndCommitsOnMain) {
  EXPECT_EQ(repo.head(), "");
  auto c = repo.commit({"",
                        {{"mysql/lag-2026-11-22/callout.md", "# c\n"},
                         {"mysql/lag-2026-11-22/postmortem.md", "# p\n"}},
                        "mysql/lag-2026-11-22: opened (MPI)"});
  ASSERT_EQ(c.status, CommitStatus::committed) << c.error;
  EXPECT_EQ(repo.head(), c.id);
  EXPECT_EQ(git("rev-parse --abbrev-ref HEAD"), "main\n");
  EXPECT_EQ(git("log --format=%s%n%an"), "mysql/lag-2026-11-22: opened (MPI)\ncalloutd\n");
  EXPECT_EQ(git("show HEAD:mysql/lag-2026-11-22/callout.md"), "# c\n");
  // The working tree follows, and git sees it clean.
  EXPECT_EQ(read_file(dir.path() / "callouts/mysql/lag-2026-11-22/postmortem.md"), "# p\n");
  EXPECT_EQ(git("status --porcelain"), "");
  EXPECT_EQ(repo.list(c.id, "mysql"), std::vector<std::string>{"lag-2026-11-22"});
  EXPECT_EQ(repo.read(c.id, "mysql/lag-2026-11-22/callout.md").value(), "# c\n");
  EXPECT_EQ(repo.read(c.id, "nope").value(), std::nullopt);
}

TEST_F(RepositoryTest, StaleParentIsRefused) {
  auto first = repo.commit({"", {{"a/b.md", "1\n"}}, "one"});
  auto second = repo.commit({first.id, {{"a/b.md", "2\n"}}, "two"});
  ASSERT_EQ(second.status, CommitStatus::committed);
  auto stale = repo.commit({first.id, {{"a/b.md", "3\n"}}, "three"});
  EXPECT_EQ(stale.status, CommitStatus::parent_moved);
  EXPECT_EQ(repo.read(repo.head(), "a/b.md").value(), "2\n");
  auto unborn = repo.commit({"", {{"a/c.md", "x\n"}}, "again from nothing"});
  EXPECT_EQ(unborn.status, CommitStatus::parent_moved);
}

TEST_F(RepositoryTest, StaleBranchLockLeftByAKillIsRemoved) {
  auto first = repo.commit({"", {{"a/b.md", "1\n"}}, "one"});
  ASSERT_EQ(first.status, CommitStatus::committed);
  // A process killed while moving the branch leaves its lock behind.
  auto lock = dir.path() / "callouts/.git/refs/heads/main.lock";
  write_file(lock, first.id + "\n");
  // Fresh, it is someone's: the commit is retried, not forced.
  EXPECT_EQ(repo.commit({first.id, {{"a/b.md", "2\n"}}, "two"}).status, CommitStatus::parent_moved);
  EXPECT_TRUE(std::filesystem::exists(lock));
  // Old, it is stale: removed, and the next attempt commits.
  std::filesystem::last_write_time(
      lock, std::filesystem::file_time_type::clock::now() - std::chrono::seconds(30));
  EXPECT_EQ(repo.commit({first.id, {{"a/b.md", "2\n"}}, "two"}).status, CommitStatus::parent_moved);
  EXPECT_FALSE(std::filesystem::exists(lock));
  EXPECT_EQ(repo.commit({first.id, {{"a/b.md", "2\n"}}, "two"}).status, CommitStatus::committed);
  // At start (after a crash) a lock that does not go away within 2 s is removed.
  write_file(lock, repo.head() + "\n");
  GitRepository reopened({path(), "main", "calloutd", "calloutd@localhost"});
  EXPECT_FALSE(std::filesystem::exists(lock));
  EXPECT_EQ(reopened.commit({reopened.head(), {{"a/b.md", "3\n"}}, "three"}).status,
            CommitStatus::committed);
}

TEST_F(RepositoryTest, CommitsOnTopOfAnEngineersCommit) {
  auto first = repo.commit({"", {{"t/i/callout.md", "line 1\n\nline 3\n"}}, "opened"});
  write_file(dir.path() / "callouts/t/i/callout.md", "line 1 edited by hand\n\nline 3\n");
  int status = 0;
  git("-c user.name=Eng -c user.email=e@x commit -qam 'hand edit'", &status);
  ASSERT_EQ(status, 0);
  EXPECT_NE(repo.head(), first.id);
  auto mine = repo.read(repo.head(), "t/i/callout.md");
  auto c = repo.commit(
      {repo.head(), {{"t/i/callout.md", "line 1 edited by hand\n\nline 3\nline 4\n"}}, "entry"});
  ASSERT_EQ(c.status, CommitStatus::committed);
  EXPECT_EQ(git("log --format=%s"), "entry\nhand edit\nopened\n");
  EXPECT_EQ(git("status --porcelain"), "");
}

TEST_F(RepositoryTest, UncommittedEditIsMergedWhenGitCan) {
  std::string base = "# T\n\n## Summary\n\nn/a\n\n## Status\n\nactive\n\n## Timeline\n\n- first\n";
  auto first = repo.commit({"", {{"t/i/callout.md", base}}, "opened"});
  std::string edited =
      "# T\n\n## Summary\n\nThe disk filled up.\n\n## Status\n\nactive\n\n## Timeline\n\n- first\n";
  write_file(dir.path() / "callouts/t/i/callout.md", edited);
  std::string daemon =
      "# T\n\n## Summary\n\nn/a\n\n## Status\n\nactive\n\n## Timeline\n\n- second\n- first\n";
  auto c = repo.commit({first.id, {{"t/i/callout.md", daemon}}, "entry"});
  ASSERT_EQ(c.status, CommitStatus::committed);
  EXPECT_EQ(git("show HEAD:t/i/callout.md"), daemon);
  // Both the engineer's uncommitted text and the daemon's entry are in the file.
  EXPECT_EQ(read_file(dir.path() / "callouts/t/i/callout.md"),
            "# T\n\n## Summary\n\nThe disk filled up.\n\n## Status\n\nactive\n\n## Timeline\n\n- "
            "second\n- first\n");
  EXPECT_EQ(git("status --porcelain"), " M t/i/callout.md\n");
}

TEST_F(RepositoryTest, ConflictingUncommittedEditIsLeftAlone) {
  auto first = repo.commit({"", {{"t/i/callout.md", "a\nb\nc\n"}}, "opened"});
  write_file(dir.path() / "callouts/t/i/callout.md", "a\nB by hand\nc\n");
  auto c = repo.commit({first.id, {{"t/i/callout.md", "a\nB by daemon\nc\n"}}, "entry"});
  ASSERT_EQ(c.status, CommitStatus::committed);
  EXPECT_EQ(read_file(dir.path() / "callouts/t/i/callout.md"), "a\nB by hand\nc\n");
  EXPECT_EQ(git("show HEAD:t/i/callout.md"), "a\nB by daemon\nc\n");
}

TEST_F(RepositoryTest, StagedEditIsLeftAlone) {
  auto first = repo.commit({"", {{"t/i/callout.md", "a\n"}}, "opened"});
  write_file(dir.path() / "callouts/t/i/callout.md", "staged\n");
  git("add t/i/callout.md");
  write_file(dir.path() / "callouts/t/i/callout.md", "a\n");  // worktree back to HEAD, index not
  auto second = repo.commit({first.id, {{"t/i/callout.md", "b\n"}}, "entry"});
  ASSERT_EQ(second.status, CommitStatus::committed) << second.error;
  EXPECT_EQ(git("show HEAD:t/i/callout.md"), "b\n");
  EXPECT_EQ(git("show :t/i/callout.md"), "staged\n");
}

TEST_F(RepositoryTest, UnsafePathsAreRefused) {
  for (const char* p :
       {"../escape.md", "/abs.md", "a/../../b.md", ".git/config", "a//b.md", "", "a/"}) {
    EXPECT_FALSE(is_safe_repo_path(p)) << p;
    EXPECT_EQ(repo.commit({"", {{p, "x"}}, "bad"}).status, CommitStatus::unsafe_path) << p;
  }
  EXPECT_TRUE(is_safe_repo_path(".calloutd/groups/x.json"));
  EXPECT_EQ(repo.head(), "");
}

// Symlinks and files where a folder is needed, committed by an engineer (or
// pushed to the remote): the writer never follows them out of the repository,
// refuses the commit with its own status, and leaves them as committed.
class UnsafePathTest : public RepositoryTest {
 protected:
  // Commits what the working tree holds, as an engineer.
  void commit_by_hand(const std::string& message) {
    int status = 0;
    git("add -A", &status);
    ASSERT_EQ(status, 0);
    git("-c user.name=Eng -c user.email=e@x commit -qm '" + message + "'", &status);
    ASSERT_EQ(status, 0);
  }
  void link(const std::filesystem::path& target, const std::string& name) {
    std::filesystem::create_directories((dir.path() / "callouts" / name).parent_path());
    std::filesystem::create_symlink(target, dir.path() / "callouts" / name);
  }
  // Every file below the outside directory, as "path=content" lines.
  std::string outside_files() const {
    std::string out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(outside.path())) {
      if (e.is_regular_file()) {
        out += std::filesystem::relative(e.path(), outside.path()).string() + "=" +
               read_file(e.path()) + "\n";
      }
    }
    return out;
  }
  // The refused commit leaves the branch where it was.
  void expect_refused(const std::string& file, const std::string& unsafe) {
    auto before = repo.head();
    auto c = repo.commit({before, {{file, "daemon\n"}, {"README.md", "index\n"}}, "refused"});
    EXPECT_EQ(c.status, CommitStatus::unsafe_path) << c.error;
    EXPECT_NE(c.error.find("\"" + unsafe + "\""), std::string::npos) << c.error;
    EXPECT_EQ(repo.head(), before);
    EXPECT_EQ(repo.unsafe_prefix(before, file, PathKind::file), unsafe);
  }

  TempDir outside;
};

TEST_F(UnsafePathTest, SymlinkedFolderIsRefused) {
  repo.commit({"", {{"README.md", "x\n"}}, "first"});
  write_file(outside.path() / "i/callout.md", "outside\n");
  link(outside.path(), "symtech");
  commit_by_hand("symtech is elsewhere");
  auto tree = git("ls-tree HEAD symtech");
  expect_refused("symtech/i/callout.md", "symtech");
  expect_refused("symtech/new/postmortem.md", "symtech");
  EXPECT_EQ(repo.unsafe_prefix(repo.head(), "symtech", PathKind::folder), "symtech");
  EXPECT_EQ(repo.unsafe_prefix(repo.head(), "other/i/callout.md", PathKind::file), std::nullopt);
  EXPECT_EQ(outside_files(), "i/callout.md=outside\n\n");
  EXPECT_EQ(git("ls-tree HEAD symtech"), tree);
  EXPECT_EQ(tree.substr(0, 6), "120000");
  // Other paths still commit, and the symlink stays in the tree unchanged.
  auto c = repo.commit({repo.head(), {{"other/i/callout.md", "ok\n"}}, "fine"});
  ASSERT_EQ(c.status, CommitStatus::committed) << c.error;
  EXPECT_EQ(git("ls-tree HEAD symtech"), tree);
  EXPECT_TRUE(std::filesystem::is_symlink(dir.path() / "callouts/symtech"));
}

TEST_F(UnsafePathTest, SymlinkedFileIsRefused) {
  repo.commit({"", {{"t/i/postmortem.md", "p\n"}}, "first"});
  write_file(outside.path() / "target.md", "outside\n");
  link(outside.path() / "target.md", "t/i/callout.md");
  commit_by_hand("callout.md is elsewhere");
  expect_refused("t/i/callout.md", "t/i/callout.md");
  EXPECT_EQ(repo.unsafe_prefix(repo.head(), "t/i", PathKind::folder), std::nullopt);
  EXPECT_EQ(outside_files(), "target.md=outside\n\n");
  EXPECT_EQ(git("ls-tree HEAD t/i/callout.md").substr(0, 6), "120000");
}

TEST_F(UnsafePathTest, FileInTheMiddleOfAPathIsRefused) {
  repo.commit({"", {{"t/i/callout.md", "c\n"}}, "first"});
  expect_refused("t/i/callout.md/x.md", "t/i/callout.md");
  EXPECT_EQ(repo.unsafe_prefix(repo.head(), "t/i/callout.md", PathKind::folder), "t/i/callout.md");
  // A folder where a file goes is refused too.
  expect_refused("t/i", "t/i");
  EXPECT_EQ(git("show HEAD:t/i/callout.md"), "c\n");
}

TEST_F(UnsafePathTest, SubmoduleIsRefused) {
  auto first = repo.commit({"", {{"README.md", "x\n"}}, "first"});
  int status = 0;
  git("update-index --add --cacheinfo 160000," + first.id + ",sub", &status);
  ASSERT_EQ(status, 0);
  git("-c user.name=Eng -c user.email=e@x commit -qm submodule", &status);
  ASSERT_EQ(status, 0);
  expect_refused("sub/i/callout.md", "sub");
}

// A symlink only in the working tree (not committed): the commit goes on the
// branch, and the working tree is left alone rather than written through it.
TEST_F(UnsafePathTest, UncommittedSymlinkInTheWorkingTreeIsNotFollowed) {
  auto first = repo.commit({"", {{"t/i/callout.md", "c\n"}}, "first"});
  write_file(outside.path() / "i/callout.md", "c\n");  // what the daemon expects to find
  std::filesystem::remove_all(dir.path() / "callouts/t");
  link(outside.path(), "t");
  auto c = repo.commit({first.id, {{"t/i/callout.md", "daemon\n"}, {"t/j/new.md", "n\n"}}, "b"});
  ASSERT_EQ(c.status, CommitStatus::committed) << c.error;
  EXPECT_EQ(git("show HEAD:t/i/callout.md"), "daemon\n");
  EXPECT_EQ(outside_files(), "i/callout.md=c\n\n");
  EXPECT_TRUE(std::filesystem::is_symlink(dir.path() / "callouts/t"));
}

TEST_F(RepositoryTest, OtherBranchCheckedOutIsNotTouched) {
  auto first = repo.commit({"", {{"t/i/callout.md", "a\n"}}, "opened"});
  git("checkout -q -b engineer-branch");
  write_file(dir.path() / "callouts/t/i/callout.md", "a\n");
  repo.commit({first.id, {{"t/i/callout.md", "b\n"}}, "entry"});
  EXPECT_EQ(read_file(dir.path() / "callouts/t/i/callout.md"), "a\n");
  EXPECT_EQ(git("show main:t/i/callout.md"), "b\n");
}

}  // namespace
}  // namespace calloutd
