// The callouts repository: read files at a commit, and commit changes on top
// of an expected parent (compare-and-swap on the branch), like a database
// transaction. An interface, so the engine's tests can use a fake.
#pragma once

#include <chrono>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "daemon/base/result.hpp"
#include "daemon/base/timefmt.hpp"

struct git_repository;

namespace calloutd {

struct FileWrite {
  std::string path;  // relative, `/`-separated, no `.`/`..`/empty components
  std::string content;
};

struct CommitRequest {
  std::string parent;  // commit id the changes were computed from; "" for an unborn branch
  std::vector<FileWrite> files;
  std::string message;
  // Files removed (`git rm`): a path that is absent in the parent is skipped;
  // a folder emptied by it goes too, as in git.
  std::vector<std::string> removals = {};
  // Entries dropped first, whatever they are (a symlink, a file, a
  // submodule), so that the files written may make a folder in their place:
  // for a folder that is the daemon's own (.calloutd/), never for people's.
  std::vector<std::string> replacements = {};
};

// unsafe_path: a path of the request is not a plain relative path, or goes
// through a symlink, a submodule or a file (or ends on one of those, or on a
// folder), in the parent's tree: nothing was written. Unlike failed, retrying
// the same request cannot help.
enum class CommitStatus { committed, parent_moved, failed, unsafe_path };

struct CommitOutcome {
  CommitStatus status = CommitStatus::failed;
  std::string id;     // the new commit when committed
  std::string error;  // when failed or unsafe_path (then naming the refused path)
};

// A commit that changed a file, as history tells it.
struct FileChange {
  std::string commit;
  TimePoint committed_at{};           // the committer's time
  bool by_us = false;                 // committed by this repository's author (the daemon)
  std::optional<std::string> before;  // the file at the commit's first parent; nullopt when absent
};

// A file read at a commit: its content, nullopt when no file is there (the
// path is absent, a folder or a submodule, or `commit` is "": an unborn
// branch), or an error when git cannot tell (a commit id that names no
// commit, a damaged or missing object). Callers decide what an error means;
// it is never "absent".
using FileRead = Result<std::optional<std::string>>;

// What a path must be able to hold: a file (every component before the last
// a folder, the last a regular file or absent) or a folder (every component a
// folder or absent).
enum class PathKind { file, folder };

class Repository {
 public:
  virtual ~Repository() = default;
  // The branch tip's commit id; "" while the branch has no commit.
  virtual std::string head() = 0;
  // A file's content at `commit` (see FileRead).
  virtual FileRead read(const std::string& commit, const std::string& path) = 0;
  // Names of the entries of directory `dir` ("" for the root) at `commit`.
  virtual std::vector<std::string> list(const std::string& commit, const std::string& dir) = 0;
  // Paths of the files that differ between two commits (added, changed or
  // removed); nullopt when it cannot tell (then read everything).
  virtual std::optional<std::vector<std::string>> changed_files(const std::string& from,
                                                                const std::string& to) = 0;
  // An id of the file's content at `commit` (equal ids, equal content); nullopt when absent.
  virtual std::optional<std::string> file_id(const std::string& commit,
                                             const std::string& path) = 0;
  // The commits on `head`'s first-parent line that changed `path` (its
  // content, or whether it exists), newest first, at most `limit` of them.
  virtual std::vector<FileChange> changes_of(const std::string& head, const std::string& path,
                                             std::size_t limit) = 0;
  // The first prefix of `path` at `commit` that stops it from holding a
  // `kind` (a symlink, a submodule, a file where a folder is needed, or a
  // folder or symlink where the file goes); nullopt when `path` can be
  // written. commit() refuses exactly these paths.
  virtual std::optional<std::string> unsafe_prefix(const std::string& commit,
                                                   const std::string& path, PathKind kind) = 0;
  // Commits `request.files` on top of `request.parent`. parent_moved when the
  // branch no longer points there (someone committed meanwhile): recompute and
  // retry; unsafe_path when a path cannot be written (see unsafe_prefix).
  virtual CommitOutcome commit(const CommitRequest& request) = 0;
};

// A libgit2 repository with a working tree that engineers also use. After each
// commit, files of the working tree that were clean are updated; an
// uncommitted edit is merged with the daemon's change when git can do so
// cleanly and otherwise left exactly as it is. Not thread-safe: one owner.
class GitRepository final : public Repository {
 public:
  struct Options {
    std::string path;
    std::string branch = "main";
    std::string author_name = "calloutd";
    std::string author_email = "calloutd@localhost";
  };

  // Opens the repository at `options.path`, creating and initialising it (on
  // `options.branch`) when missing. Throws std::runtime_error when it cannot.
  explicit GitRepository(Options options);
  ~GitRepository() override;
  GitRepository(const GitRepository&) = delete;
  GitRepository& operator=(const GitRepository&) = delete;

  std::string head() override;
  FileRead read(const std::string& commit, const std::string& path) override;
  std::vector<std::string> list(const std::string& commit, const std::string& dir) override;
  std::optional<std::string> file_id(const std::string& commit, const std::string& path) override;
  // Walks at most k_history_depth commits.
  std::vector<FileChange> changes_of(const std::string& head, const std::string& path,
                                     std::size_t limit) override;
  std::optional<std::vector<std::string>> changed_files(const std::string& from,
                                                        const std::string& to) override;
  std::optional<std::string> unsafe_prefix(const std::string& commit, const std::string& path,
                                           PathKind kind) override;
  // Never follows a symlink, in the tree or in the working tree: a working-tree
  // path through one is left alone (the commit is on the branch).
  CommitOutcome commit(const CommitRequest& request) override;

  // For the remote: the commit a ref points at ("" when none), whether
  // `ancestor` is `descendant` or one of its ancestors, and moving the branch
  // from `expected` to `target` (compare-and-swap) with the working tree
  // updated as after a commit. parent_moved when the branch is not at `expected`.
  std::string ref_target(const std::string& ref);
  bool is_ancestor(const std::string& ancestor, const std::string& descendant);
  // Whether two commits share any history at all.
  bool related(const std::string& a, const std::string& b);
  CommitOutcome move_branch(const std::string& expected, const std::string& target,
                            const std::string& why);
  // People's commits in (base, tip] (not by the daemon's author: made in the
  // daemon's own clone), oldest first, cherry-picked onto `onto` with their
  // authors and messages. `head` is the last of them, `onto` when there are
  // none, and nullopt when one does not apply cleanly (or is a merge).
  struct CarryOver {
    std::size_t commits = 0;
    std::optional<std::string> head;
  };
  CarryOver carry_over(const std::string& base, const std::string& tip, const std::string& onto);
  // Points `ref` at `commit`, so that it stays reachable (a backup).
  bool keep(const std::string& ref, const std::string& commit);
  const Options& options() const { return m_options; }
  // Held shared by each commit and branch move here and by each push
  // (sync/) for its length; maintenance takes it exclusively to start git
  // gc between them (git/maintenance.hpp).
  std::shared_mutex& writing() { return m_writing; }

 private:
  void sync_worktree(const std::string& old_commit, const std::vector<FileWrite>& files,
                     const std::vector<std::string>& removals = {});
  // Removes the branch's lock file when it is older than `max_age`.
  bool remove_stale_branch_lock(std::chrono::seconds max_age);
  std::string ref_name() const { return "refs/heads/" + m_options.branch; }
  // Flushes the file system holding the repository (one call, however many files).
  bool sync_filesystem() const;

  Options m_options;
  git_repository* m_repo = nullptr;
  std::shared_mutex m_writing;
};

// True when `path` is a safe relative path inside the repository.
bool is_safe_repo_path(const std::string& path);

}  // namespace calloutd
