// The Repository contract, run against both the real GitRepository (a git
// repository in a temporary folder) and the FakeRepository the engine's
// tests use: whatever the engine relies on, the fake must do as git does.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon/git/repository.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

// Commits stamped with the committer's time, in whole seconds as git keeps it.
TimePoint now_in_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct FakeSubject {
  Repository& repo() { return fake; }
  CommitOutcome commit(const CommitRequest& request) {
    fake.commit_time = now_in_seconds();  // the fake takes its committer time from the test
    return fake.commit(request);
  }
  testing::FakeRepository fake;
};

struct GitSubject {
  Repository& repo() { return git; }
  CommitOutcome commit(const CommitRequest& request) { return git.commit(request); }
  testing::TempDir dir;
  GitRepository git{{(dir.path() / "callouts").string(), "main", "calloutd", "calloutd@localhost"}};
};

template <typename Subject>
class RepositoryContractTest : public ::testing::Test {
 protected:
  // Commits `files` on the head; the new commit's id.
  std::string commit(std::vector<FileWrite> files) {
    auto c = subject.commit({repo().head(), std::move(files), "change"});
    EXPECT_EQ(c.status, CommitStatus::committed) << c.error;
    return c.id;
  }
  Repository& repo() { return subject.repo(); }
  // What read() found, for comparing: the content, "<absent>" or "<error>".
  std::string found(const std::string& commit, const std::string& path) {
    auto r = repo().read(commit, path);
    return !r.ok() ? "<error>" : r->value_or("<absent>");
  }

  Subject subject;
};

using Subjects = ::testing::Types<FakeSubject, GitSubject>;
class SubjectNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, FakeSubject> ? "Fake" : "Git";
  }
};
TYPED_TEST_SUITE(RepositoryContractTest, Subjects, SubjectNames);

TYPED_TEST(RepositoryContractTest, AnEmptyRepositoryHasNoHeadAndNoFiles) {
  EXPECT_EQ(this->repo().head(), "");
  EXPECT_EQ(this->found("", "a/b.md"), "<absent>");
  EXPECT_TRUE(this->repo().list("", "").empty());
  EXPECT_TRUE(this->repo().changes_of("", "a/b.md", 10).empty());
}

TYPED_TEST(RepositoryContractTest, ReadsAFileAtItsCommitAndAtTheHead) {
  auto first = this->commit({{"a/b.md", "1\n"}});
  auto second = this->commit({{"a/b.md", "2\n"}, {"a/c.md", "c\n"}});
  EXPECT_EQ(this->repo().head(), second);
  EXPECT_EQ(this->found(first, "a/b.md"), "1\n");
  EXPECT_EQ(this->found(second, "a/b.md"), "2\n");
  EXPECT_EQ(this->found(this->repo().head(), "a/c.md"), "c\n");
  EXPECT_EQ(this->found(first, "a/c.md"), "<absent>");
  EXPECT_EQ(this->repo().list(second, "a"), (std::vector<std::string>{"b.md", "c.md"}));
}

TYPED_TEST(RepositoryContractTest, APathWithNoFileIsAbsentNotAnError) {
  auto head = this->commit({{"a/b.md", "1\n"}});
  EXPECT_EQ(this->found(head, "nope.md"), "<absent>");
  EXPECT_EQ(this->found(head, "a/nope/c.md"), "<absent>");
  EXPECT_EQ(this->found(head, "a"), "<absent>");         // a folder
  EXPECT_EQ(this->found(head, "a/b.md/c"), "<absent>");  // below a file
  EXPECT_EQ(this->repo().file_id(head, "nope.md"), std::nullopt);
}

TYPED_TEST(RepositoryContractTest, ReadingAtACommitThatDoesNotExistIsAnError) {
  this->commit({{"a/b.md", "1\n"}});
  for (const std::string bad :
       {"not-a-commit", "999", "0123456789abcdef0123456789abcdef01234567"}) {
    auto r = this->repo().read(bad, "a/b.md");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().find("a/b.md"), std::string::npos) << r.error();
    EXPECT_EQ(this->repo().file_id(bad, "a/b.md"), std::nullopt);
    EXPECT_TRUE(this->repo().changes_of(bad, "a/b.md", 10).empty());
  }
}

TYPED_TEST(RepositoryContractTest, ACommitOnAStaleParentIsRefused) {
  auto first = this->commit({{"a/b.md", "1\n"}});
  auto second = this->commit({{"a/b.md", "2\n"}});
  auto stale = this->subject.commit({first, {{"a/b.md", "3\n"}}, "stale"});
  EXPECT_EQ(stale.status, CommitStatus::parent_moved);
  auto unborn = this->subject.commit({"", {{"a/c.md", "x\n"}}, "from nothing"});
  EXPECT_EQ(unborn.status, CommitStatus::parent_moved);
  EXPECT_EQ(this->repo().head(), second);
  EXPECT_EQ(this->found(this->repo().head(), "a/b.md"), "2\n");
}

TYPED_TEST(RepositoryContractTest, ChangesOfAFileComeNewestFirstWithTheirBefore) {
  auto started = now_in_seconds();
  auto c1 = this->commit({{"a.md", "1\n"}});
  this->commit({{"b.md", "other\n"}});
  auto c3 = this->commit({{"a.md", "2\n"}});
  auto c4 = this->commit({{"a.md", "3\n"}, {"b.md", "again\n"}});
  auto ended = now_in_seconds();

  auto changes = this->repo().changes_of(this->repo().head(), "a.md", 10);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].commit, c4);
  EXPECT_EQ(changes[0].before, "2\n");
  EXPECT_EQ(changes[1].commit, c3);
  EXPECT_EQ(changes[1].before, "1\n");
  EXPECT_EQ(changes[2].commit, c1);
  EXPECT_EQ(changes[2].before, std::nullopt);
  for (const auto& change : changes) {
    EXPECT_TRUE(change.by_us);
    EXPECT_GE(change.committed_at, started);
    EXPECT_LE(change.committed_at, ended);
  }
  auto limited = this->repo().changes_of(this->repo().head(), "a.md", 2);
  ASSERT_EQ(limited.size(), 2u);
  EXPECT_EQ(limited[1].commit, c3);
  // From an older head, only what was there.
  EXPECT_EQ(this->repo().changes_of(c3, "a.md", 10).size(), 2u);
}

TYPED_TEST(RepositoryContractTest, ChangedFilesAndFileIdsFollowTheContent) {
  auto c1 = this->commit({{"a.md", "1\n"}, {"b.md", "same\n"}});
  auto c2 = this->commit({{"a.md", "2\n"}, {"c.md", "new\n"}});
  auto changed = this->repo().changed_files(c1, c2);
  ASSERT_TRUE(changed);
  std::sort(changed->begin(), changed->end());
  EXPECT_EQ(*changed, (std::vector<std::string>{"a.md", "c.md"}));
  EXPECT_EQ(this->repo().file_id(c1, "b.md"), this->repo().file_id(c2, "b.md"));
  EXPECT_NE(this->repo().file_id(c1, "a.md"), this->repo().file_id(c2, "a.md"));
}

// A file where a folder goes, or a folder where a file goes, cannot be
// written through, and commit() refuses exactly what unsafe_prefix names.
TYPED_TEST(RepositoryContractTest, AFileAndAFolderCannotTakeEachOthersPlace) {
  auto head = this->commit({{"a/b.md", "1\n"}, {"f", "a file\n"}});
  EXPECT_EQ(this->repo().unsafe_prefix(head, "f/x.md", PathKind::file), "f");
  EXPECT_EQ(this->repo().unsafe_prefix(head, "f", PathKind::folder), "f");
  EXPECT_EQ(this->repo().unsafe_prefix(head, "a", PathKind::file), "a");
  EXPECT_EQ(this->repo().unsafe_prefix(head, "a/new.md", PathKind::file), std::nullopt);
  EXPECT_EQ(this->repo().unsafe_prefix(head, "a", PathKind::folder), std::nullopt);
  auto through_file = this->subject.commit({head, {{"f/x.md", "x\n"}}, "through a file"});
  EXPECT_EQ(through_file.status, CommitStatus::unsafe_path);
  auto over_folder = this->subject.commit({head, {{"a", "x\n"}}, "over a folder"});
  EXPECT_EQ(over_folder.status, CommitStatus::unsafe_path);
  EXPECT_EQ(this->repo().head(), head);
}

}  // namespace
}  // namespace calloutd
