#include "daemon/git/repository.hpp"

#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "daemon/base/log.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;

// A ref update holds its lock for milliseconds: one this old is stale.
constexpr std::chrono::seconds k_stale_lock_age{5};
// Writing a commit's objects, when it fails (see GitRepository::commit).
constexpr int k_object_write_attempts = 3;

std::string git_error_text() {
  const git_error* e = git_error_last();
  return e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using EntryPtr = std::unique_ptr<git_tree_entry, Deleter<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob, git_blob_free>>;
using BuilderPtr = std::unique_ptr<git_treebuilder, Deleter<git_treebuilder, git_treebuilder_free>>;
using IndexPtr = std::unique_ptr<git_index, Deleter<git_index, git_index_free>>;
using RefPtr = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using SigPtr = std::unique_ptr<git_signature, Deleter<git_signature, git_signature_free>>;
using WalkPtr = std::unique_ptr<git_revwalk, Deleter<git_revwalk, git_revwalk_free>>;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    parts.push_back(part);
  }
  return parts;
}

TreePtr tree_of(git_repository* repo, const std::string& commit_id) {
  git_oid oid;
  if (commit_id.empty() || git_oid_fromstr(&oid, commit_id.c_str()) != 0) {
    return nullptr;
  }
  git_commit* commit = nullptr;
  if (git_commit_lookup(&commit, repo, &oid) != 0) {
    return nullptr;
  }
  CommitPtr c(commit);
  git_tree* tree = nullptr;
  if (git_commit_tree(&tree, c.get()) != 0) {
    return nullptr;
  }
  return TreePtr(tree);
}

// Whether a tree entry can be written through as a `kind`: a folder is a
// tree, a file a regular or executable blob; a symlink (120000) or a
// submodule (160000) is neither.
bool holds(const git_tree_entry* e, PathKind kind) {
  auto mode = git_tree_entry_filemode(e);
  return kind == PathKind::folder
             ? mode == GIT_FILEMODE_TREE
             : mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

// The files of one commit as a tree of folders, so that each folder's git
// tree is rebuilt once however many files change in it.
struct TreeEdit {
  std::map<std::string, git_oid> blobs;
  std::set<std::string> removed;   // files removed from this folder
  std::set<std::string> replaced;  // entries of the base dropped whatever they are
  std::map<std::string, TreeEdit> folders;

  void add(std::span<const std::string> parts, const git_oid& blob) {
    if (parts.size() == 1) {
      blobs[parts[0]] = blob;
    } else {
      folders[parts[0]].add(parts.subspan(1), blob);
    }
  }

  void remove(std::span<const std::string> parts) {
    if (parts.size() == 1) {
      removed.insert(parts[0]);
    } else {
      folders[parts[0]].remove(parts.subspan(1));
    }
  }

  void replace(std::span<const std::string> parts) {
    if (parts.size() == 1) {
      replaced.insert(parts[0]);
    } else {
      folders[parts[0]].replace(parts.subspan(1));
    }
  }

  // Writes `base` (may be null), the tree at `prefix`, with these changes;
  // its id into `out`, and into `empty` whether it holds nothing (then the
  // parent drops it: git keeps no empty folders). An entry of `base` that
  // cannot hold what is written (see holds()), or a name written both as a
  // file and as a folder, is refused: false with the entry's path in `unsafe`.
  bool write(git_repository* repo, const git_tree* base, const std::string& prefix, git_oid* out,
             std::string& unsafe, bool& empty) const {
    auto fits = [&](const std::string& name, PathKind kind) {
      const git_tree_entry* e = base != nullptr && !replaced.contains(name)
                                    ? git_tree_entry_byname(base, name.c_str())
                                    : nullptr;
      if ((e != nullptr && !holds(e, kind)) || (blobs.contains(name) && folders.contains(name))) {
        unsafe = prefix + name;
        return false;
      }
      return true;
    };
    git_treebuilder* raw = nullptr;
    if (git_treebuilder_new(&raw, repo, base) != 0) {
      return false;
    }
    BuilderPtr builder(raw);
    for (const auto& name : replaced) {
      git_treebuilder_remove(raw, name.c_str());  // absent: nothing to remove
    }
    for (const auto& name : removed) {
      // Only a file: a folder or a submodule of that name is not what was asked.
      if (!fits(name, PathKind::file)) {
        return false;
      }
      git_treebuilder_remove(raw, name.c_str());  // absent: nothing to remove
    }
    for (const auto& [name, blob] : blobs) {
      if (!fits(name, PathKind::file) ||
          git_treebuilder_insert(nullptr, raw, name.c_str(), &blob, GIT_FILEMODE_BLOB) != 0) {
        return false;
      }
    }
    for (const auto& [name, edit] : folders) {
      if (!fits(name, PathKind::folder) ||
          !write_folder(repo, replaced.contains(name) ? nullptr : base, prefix, name, edit, raw,
                        unsafe)) {
        return false;
      }
    }
    empty = git_treebuilder_entrycount(raw) == 0;
    return git_treebuilder_write(out, raw) == 0;
  }

 private:
  // Writes subfolder `name` of `base` with `edit` into `builder` (dropped
  // when it ends up empty).
  static bool write_folder(git_repository* repo, const git_tree* base, const std::string& prefix,
                           const std::string& name, const TreeEdit& edit, git_treebuilder* builder,
                           std::string& unsafe) {
    TreePtr sub;
    if (base != nullptr) {
      const git_tree_entry* e = git_tree_entry_byname(base, name.c_str());
      git_tree* t = nullptr;
      if (e != nullptr && git_tree_lookup(&t, repo, git_tree_entry_id(e)) == 0) {
        sub.reset(t);
      }
    }
    git_oid child;
    bool empty = false;
    if (!edit.write(repo, sub.get(), prefix + name + "/", &child, unsafe, empty)) {
      return false;
    }
    if (empty) {
      git_treebuilder_remove(builder, name.c_str());  // absent: nothing to remove
      return true;
    }
    return git_treebuilder_insert(nullptr, builder, name.c_str(), &child, GIT_FILEMODE_TREE) == 0;
  }
};

// A file descriptor, closed with the object.
class Fd {
 public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(m_fd, other.m_fd);
    return *this;
  }
  int get() const { return m_fd; }

 private:
  int m_fd;
};

enum class Create { yes, no };

// The folder holding `path` below `root`, opened one component at a time
// without following a symlink (O_NOFOLLOW), so that nothing outside the
// working tree is reached, even when someone swaps a folder for a symlink
// meanwhile. Missing folders are made when `create` says so. An invalid Fd
// when it cannot; `unsafe` then names a component that is a symlink or no folder.
Fd open_parent(const char* root, const std::vector<std::string>& parts, Create create,
               std::string& unsafe) {
  Fd dir(::open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string prefix;
  constexpr int k_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  for (std::size_t i = 0; dir.get() >= 0 && i + 1 < parts.size(); ++i) {
    prefix += (i == 0 ? "" : "/") + parts[i];
    int fd = ::openat(dir.get(), parts[i].c_str(), k_flags);
    if (fd < 0 && errno == ENOENT && create == Create::yes) {
      ::mkdirat(dir.get(), parts[i].c_str(), 0777);  // EEXIST: made meanwhile, fine
      fd = ::openat(dir.get(), parts[i].c_str(), k_flags);
    }
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
      unsafe = prefix;
    }
    dir = Fd(fd);
  }
  return dir;
}

// Whether `name` in `dir` is absent or a regular file (not a symlink, not a folder).
bool plain_file_or_absent(int dir, const std::string& name) {
  struct stat st {};
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISREG(st.st_mode);
}

// The prefix of `path` (below the working tree `root`) that a write would
// have to go through or replace without being a folder or a regular file: a
// symlink, a file where a folder goes, a folder where the file goes. "" when
// `path` can be written.
std::string unsafe_in_worktree(const char* root, const std::string& path) {
  auto parts = split_path(path);
  std::string unsafe;
  Fd dir = open_parent(root, parts, Create::no, unsafe);
  if (dir.get() >= 0 && !plain_file_or_absent(dir.get(), parts.back())) {
    unsafe = path;
  }
  return unsafe;
}

std::optional<std::string> read_worktree_file(const char* root, const std::string& path) {
  auto parts = split_path(path);
  std::string unsafe;
  Fd dir = open_parent(root, parts, Create::no, unsafe);
  Fd file(dir.get() < 0
              ? -1
              : ::openat(dir.get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (file.get() < 0) {
    return std::nullopt;
  }
  std::string content;
  char buffer[65536];
  for (ssize_t n; (n = ::read(file.get(), buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      return std::nullopt;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

// Replaces `path` below `root` atomically (a temporary file in the same
// folder, then rename), never through a symlink.
bool write_worktree_file(const char* root, const std::string& path, const std::string& content) {
  auto parts = split_path(path);
  std::string unsafe;
  Fd dir = open_parent(root, parts, Create::yes, unsafe);
  if (dir.get() < 0 || !plain_file_or_absent(dir.get(), parts.back())) {
    return false;
  }
  const std::string tmp = ".calloutd-tmp-" + parts.back();
  Fd out(::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0666));
  std::size_t written = 0;
  while (out.get() >= 0 && written < content.size()) {
    ssize_t n = ::write(out.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  bool ok = out.get() >= 0 && written == content.size();
  out = Fd();
  if (!ok || ::renameat(dir.get(), tmp.c_str(), dir.get(), parts.back().c_str()) != 0) {
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    return false;
  }
  return true;
}

// A commit that failed at `what`, with libgit2's reason (read now: the
// last error of this thread).
CommitOutcome commit_failed(const std::string& what) {
  return CommitOutcome{CommitStatus::failed, "", what + ": " + git_error_text()};
}

// Writes a blob for each of `files` and adds it to `edit`, and `removals`
// too. The outcome when a path is refused or a blob cannot be written;
// nullopt to go on.
std::optional<CommitOutcome> add_blobs(git_repository* repo, const CommitRequest& request,
                                       TreeEdit& edit) {
  const auto& files = request.files;
  const auto& removals = request.removals;
  for (const auto& file : files) {
    if (!is_safe_repo_path(file.path)) {
      return CommitOutcome{CommitStatus::unsafe_path, "",
                           "refusing unsafe path \"" + file.path + "\""};
    }
    git_oid blob;
    if (git_blob_create_from_buffer(&blob, repo, file.content.data(), file.content.size()) != 0) {
      return commit_failed("cannot write a blob for " + file.path);
    }
    edit.add(split_path(file.path), blob);
  }
  for (const auto& path : removals) {
    if (!is_safe_repo_path(path)) {
      return CommitOutcome{CommitStatus::unsafe_path, "", "refusing unsafe path \"" + path + "\""};
    }
    edit.remove(split_path(path));
  }
  for (const auto& path : request.replacements) {
    if (!is_safe_repo_path(path)) {
      return CommitOutcome{CommitStatus::unsafe_path, "", "refusing unsafe path \"" + path + "\""};
    }
    edit.replace(split_path(path));
  }
  return std::nullopt;
}

// Replaces `tree` (the parent's, may be null) by that tree with `edit`
// applied. The outcome when a path is refused or the tree cannot be built;
// nullopt to go on.
std::optional<CommitOutcome> apply_edit(git_repository* repo, const TreeEdit& edit, TreePtr& tree) {
  git_oid root;
  git_tree* next = nullptr;
  std::string unsafe;
  bool empty = false;  // a root tree may be empty (every file removed)
  if (!edit.write(repo, tree.get(), "", &root, unsafe, empty)) {
    if (!unsafe.empty()) {
      return CommitOutcome{CommitStatus::unsafe_path, "",
                           "refusing to write through \"" + unsafe +
                               "\": a symlink, a submodule, or a file where a folder goes (or "
                               "the reverse) in the repository"};
    }
    return commit_failed("cannot build the commit's tree");
  }
  if (git_tree_lookup(&next, repo, &root) != 0) {
    return commit_failed("cannot build the commit's tree");
  }
  tree.reset(next);
  return std::nullopt;
}

// The tree of the commit `request` asks for, into `tree`: the parent's with
// the request's files written. The outcome when the commit stops here
// (refused or failed); nullopt to go on.
std::optional<CommitOutcome> build_commit_tree(git_repository* repo, const CommitRequest& request,
                                               TreePtr& tree) {
  tree = tree_of(repo, request.parent);
  if (!request.parent.empty() && !tree) {
    return commit_failed("cannot read the parent commit " + request.parent);
  }
  TreeEdit edit;
  if (auto stopped = add_blobs(repo, request, edit)) {
    return stopped;
  }
  if (!request.files.empty() || !request.removals.empty() || !request.replacements.empty()) {
    if (auto stopped = apply_edit(repo, edit, tree)) {
      return stopped;
    }
  }
  if (!tree) {
    return CommitOutcome{CommitStatus::failed, "", "nothing to commit"};
  }
  return std::nullopt;
}

// Writes the commit object of `tree` on top of `request.parent` (into
// `parent`, null for an unborn branch), by `options`' author; its id into
// `id`. The branch does not move. The outcome when it fails; nullopt to go on.
std::optional<CommitOutcome> write_commit(git_repository* repo,
                                          const GitRepository::Options& options,
                                          const CommitRequest& request, const git_tree* tree,
                                          CommitPtr& parent, git_oid& id) {
  git_signature* sig = nullptr;
  if (git_signature_now(&sig, options.author_name.c_str(), options.author_email.c_str()) != 0) {
    return commit_failed("bad commit author");
  }
  SigPtr signature(sig);
  if (!request.parent.empty()) {
    git_oid poid;
    git_commit* pc = nullptr;
    git_oid_fromstr(&poid, request.parent.c_str());
    if (git_commit_lookup(&pc, repo, &poid) != 0) {
      return commit_failed("cannot read the parent commit");
    }
    parent.reset(pc);
  }
  const git_commit* parents[] = {parent.get()};
  if (git_commit_create(&id, repo, nullptr, sig, sig, nullptr, request.message.c_str(), tree,
                        parent ? 1 : 0, parents) != 0) {
    return commit_failed("cannot write the commit");
  }
  return std::nullopt;
}

// Compare-and-swap: points `ref` at `id` only if it still points at `parent`
// (absent when `parent` is null), under libgit2's ref lock, which makes a
// concurrent engineer's commit safe. libgit2's return code.
int swap_branch(git_repository* repo, const std::string& ref, const git_oid& id,
                const git_commit* parent, const std::string& message) {
  git_reference* moved = nullptr;
  std::string log_message = "calloutd: " + message.substr(0, message.find('\n'));
  int rc = parent != nullptr
               ? git_reference_create_matching(&moved, repo, ref.c_str(), &id, 1,
                                               git_commit_id(parent), log_message.c_str())
               : git_reference_create(&moved, repo, ref.c_str(), &id, 0, log_message.c_str());
  git_reference_free(moved);
  return rc;
}

// The commits in (`base`, `tip`] whose author is not `email`, oldest first;
// none when `tip` is "" ("" `base`: all of `tip`'s history).
std::vector<git_oid> commits_not_by(git_repository* repo, const std::string& email,
                                    const std::string& base, const std::string& tip) {
  std::vector<git_oid> foreign;
  git_revwalk* raw_walk = nullptr;
  git_oid oid;
  if (tip.empty() || git_revwalk_new(&raw_walk, repo) != 0) {
    return foreign;
  }
  WalkPtr walk(raw_walk);
  git_revwalk_sorting(raw_walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
  if (git_oid_fromstr(&oid, tip.c_str()) != 0 || git_revwalk_push(raw_walk, &oid) != 0 ||
      (!base.empty() &&
       (git_oid_fromstr(&oid, base.c_str()) != 0 || git_revwalk_hide(raw_walk, &oid) != 0))) {
    return foreign;
  }
  while (git_revwalk_next(&oid, raw_walk) == 0) {
    git_commit* raw_commit = nullptr;
    if (git_commit_lookup(&raw_commit, repo, &oid) == 0) {
      CommitPtr commit(raw_commit);
      const git_signature* author = git_commit_author(raw_commit);
      if (author->email == nullptr || email != author->email) {
        foreign.push_back(oid);
      }
    }
  }
  return foreign;
}

// Commit `pick_id` (one parent) made again on top of `onto`, with its author,
// committer and message; the new commit's id, nullopt when it is a merge or
// does not apply cleanly.
std::optional<git_oid> cherry_pick(git_repository* repo, const git_oid& pick_id,
                                   const git_oid& onto) {
  git_commit* raw_pick = nullptr;
  git_commit* raw_ours = nullptr;
  if (git_commit_lookup(&raw_pick, repo, &pick_id) != 0) {
    return std::nullopt;
  }
  CommitPtr pick(raw_pick);
  if (git_commit_lookup(&raw_ours, repo, &onto) != 0) {
    return std::nullopt;
  }
  CommitPtr ours(raw_ours);
  git_index* raw_index = nullptr;
  git_oid tree_id;
  git_tree* raw_tree = nullptr;
  if (git_commit_parentcount(raw_pick) != 1 ||
      git_cherrypick_commit(&raw_index, repo, raw_pick, raw_ours, 0, nullptr) != 0) {
    return std::nullopt;
  }
  IndexPtr index(raw_index);
  if (git_index_has_conflicts(raw_index) != 0 ||
      git_index_write_tree_to(&tree_id, raw_index, repo) != 0 ||
      git_tree_lookup(&raw_tree, repo, &tree_id) != 0) {
    return std::nullopt;
  }
  TreePtr tree(raw_tree);
  const git_commit* parents[] = {raw_ours};
  git_oid created;
  if (git_commit_create(&created, repo, nullptr, git_commit_author(raw_pick),
                        git_commit_committer(raw_pick), nullptr, git_commit_message(raw_pick),
                        raw_tree, 1, parents) != 0) {
    return std::nullopt;
  }
  return created;
}

// The id of `path`'s entry in `tree` (may be null); nullopt when absent.
std::optional<git_oid> entry_id(const git_tree* tree, const std::string& path) {
  git_tree_entry* raw = nullptr;
  if (tree == nullptr || git_tree_entry_bypath(&raw, tree, path.c_str()) != 0) {
    return std::nullopt;
  }
  EntryPtr entry(raw);
  return *git_tree_entry_id(raw);
}

// Stages `file`'s new content in `index` without touching the working tree;
// whether the index changed.
bool stage_content(git_index* index, const FileWrite& file) {
  git_index_entry entry{};
  entry.path = file.path.c_str();
  entry.mode = GIT_FILEMODE_BLOB;
  return git_index_add_from_buffer(index, &entry, file.content.data(), file.content.size()) == 0;
}

// Merges the daemon's change (`old` to `file.content`) into the uncommitted
// edit `current` of the working tree when git can do so cleanly; whether it did.
bool merge_into_edit(const char* workdir, const std::string& old, const std::string& current,
                     const FileWrite& file) {
  git_merge_file_input base = GIT_MERGE_FILE_INPUT_INIT, ours = GIT_MERGE_FILE_INPUT_INIT,
                       theirs = GIT_MERGE_FILE_INPUT_INIT;
  base.ptr = old.data();
  base.size = old.size();
  ours.ptr = current.data();
  ours.size = current.size();
  theirs.ptr = file.content.data();
  theirs.size = file.content.size();
  git_merge_file_result result{};
  if (git_merge_file(&result, &base, &ours, &theirs, nullptr) == 0 && result.automergeable) {
    write_worktree_file(workdir, file.path, std::string(result.ptr, result.len));
    git_merge_file_result_free(&result);
    log::info("merged the daemon's change into an uncommitted edit", {{"file", file.path}});
    return true;
  }
  git_merge_file_result_free(&result);
  return false;
}

// Brings one committed `file` into the working tree and `index`: written
// when both were clean (as at `old_tree`, whose content of it is `old`), else
// the new content staged when nothing was staged by hand, and merged into an
// uncommitted edit when git can, or the edit left alone. Whether the index changed.
bool update_worktree_file(const char* workdir, git_index* index, const git_tree* old_tree,
                          const std::optional<std::string>& old, const FileWrite& file) {
  auto current = read_worktree_file(workdir, file.path);
  std::optional<git_oid> old_oid = entry_id(old_tree, file.path);
  const git_index_entry* staged = git_index_get_bypath(index, file.path.c_str(), 0);
  bool index_clean =
      staged == nullptr ? !old_oid : (old_oid && git_oid_equal(&staged->id, &*old_oid));
  if (current == old && index_clean) {
    return write_worktree_file(workdir, file.path, file.content) &&
           git_index_add_bypath(index, file.path.c_str()) == 0;
  }
  bool index_changed = false;
  if (index_clean) {
    // Nothing staged by hand: stage the daemon's version, so the index does
    // not hold the old text (a later `git commit` would revert the change).
    index_changed = stage_content(index, file);
  }
  // An uncommitted edit: merge the daemon's change into it when git can.
  if (current && old && merge_into_edit(workdir, *old, *current, file)) {
    return index_changed;
  }
  log::warn("left an uncommitted edit untouched; the daemon's change is committed on the branch",
            {{"file", file.path}});
  return index_changed;
}

// Removes one committed removal from the working tree and `index`: the
// file (and its folder, when that empties) when both were clean (as at
// `old_tree`, whose content of it is `old`); else only the index entry when
// nothing was staged by hand, so that a later `git commit` does not bring it
// back; an uncommitted edit stays. Whether the index changed.
bool remove_worktree_file(const char* workdir, git_index* index, const git_tree* old_tree,
                          const std::optional<std::string>& old, const std::string& path) {
  std::optional<git_oid> old_oid = entry_id(old_tree, path);
  const git_index_entry* staged = git_index_get_bypath(index, path.c_str(), 0);
  if (staged == nullptr) {
    return false;  // not tracked here (removed by hand already)
  }
  if (!old_oid || !git_oid_equal(&staged->id, &*old_oid)) {
    log::warn("left a staged file untouched; its removal is committed on the branch",
              {{"file", path}});
    return false;
  }
  auto parts = split_path(path);
  if (read_worktree_file(workdir, path) == old) {
    std::string unsafe;
    Fd dir = open_parent(workdir, parts, Create::no, unsafe);
    if (dir.get() >= 0) {
      ::unlinkat(dir.get(), parts.back().c_str(), 0);
    }
    if (parts.size() > 1) {
      auto folder = std::vector<std::string>(parts.begin(), parts.end() - 1);
      Fd above = open_parent(workdir, folder, Create::no, unsafe);
      if (above.get() >= 0) {
        ::unlinkat(above.get(), folder.back().c_str(), AT_REMOVEDIR);  // only when empty
      }
    }
  } else {
    log::warn("left an uncommitted edit untouched; the file's removal is committed on the branch",
              {{"file", path}});
  }
  return git_index_remove_bypath(index, path.c_str()) == 0;
}

}  // namespace

bool GitRepository::sync_filesystem() const {
  int fd = ::open(git_repository_path(m_repo), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool ok = ::syncfs(fd) == 0;
  ::close(fd);
  return ok;
}

bool is_safe_repo_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  for (const auto& part : split_path(path)) {
    if (part.empty() || part == "." || part == ".." || part == ".git") {
      return false;
    }
  }
  return path.back() != '/';
}

GitRepository::GitRepository(Options options) : m_options(std::move(options)) {
  git_libgit2_init();
  // A technology with thousands of callouts, and .calloutd/groups, are trees
  // of hundreds of KiB that every event reads: keep them in libgit2's object
  // cache (by default only trees under 4 KiB are cached, so each read
  // inflated them again).
  // The whole cache stays small (default 256 MiB): every commit makes new
  // versions of those trees, and memory must stay flat through a storm.
  git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, std::size_t{16} << 20);
  git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, static_cast<ssize_t>(32) << 20);
  int rc = git_repository_open_ext(&m_repo, m_options.path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                   nullptr);
  if (rc == GIT_ENOTFOUND) {
    git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    opts.flags = GIT_REPOSITORY_INIT_MKPATH;
    std::string head = ref_name();
    opts.initial_head = head.c_str();
    rc = git_repository_init_ext(&m_repo, m_options.path.c_str(), &opts);
    if (rc == 0) {
      log::info("initialised a new callouts repository",
                {{"path", m_options.path}, {"branch", m_options.branch}});
    }
  }
  if (rc != 0) {
    std::string message =
        "cannot open or create the repository \"" + m_options.path + "\": " + git_error_text();
    git_libgit2_shutdown();
    throw std::runtime_error(message);
  }
  // A lock on the branch that outlives a short wait was left by a process
  // killed while moving it (this daemon, SIGKILLed mid-commit): git would
  // refuse every commit until someone removed it.
  fs::path lock = fs::path(git_repository_path(m_repo)) / (ref_name() + ".lock");
  for (int i = 0; i < 20 && fs::exists(lock); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  remove_stale_branch_lock(std::chrono::seconds(0));
}

bool GitRepository::remove_stale_branch_lock(std::chrono::seconds max_age) {
  fs::path lock = fs::path(git_repository_path(m_repo)) / (ref_name() + ".lock");
  std::error_code ec;
  auto written = fs::last_write_time(lock, ec);
  if (ec || fs::file_time_type::clock::now() - written < max_age) {
    return false;
  }
  fs::remove(lock, ec);
  if (!ec) {
    log::warn("removed a stale lock of the branch (a git process was killed while moving it)",
              {{"lock", lock.string()}});
  }
  return !ec;
}

GitRepository::~GitRepository() {
  git_repository_free(m_repo);
  git_libgit2_shutdown();
}

std::string GitRepository::head() {
  git_oid oid;
  if (git_reference_name_to_id(&oid, m_repo, ref_name().c_str()) != 0) {
    return "";
  }
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

FileRead GitRepository::read(const std::string& commit, const std::string& path) {
  if (commit.empty()) {
    return std::optional<std::string>{};  // an unborn branch holds no files
  }
  git_error_clear();  // the message below is this read's, not an earlier call's
  TreePtr tree = tree_of(m_repo, commit);
  if (!tree) {
    return Error{"cannot read \"" + path + "\" at commit \"" + commit + "\": " + git_error_text()};
  }
  git_tree_entry* raw = nullptr;
  int rc = git_tree_entry_bypath(&raw, tree.get(), path.c_str());
  if (rc == GIT_ENOTFOUND) {
    return std::optional<std::string>{};
  }
  if (rc != 0) {
    return Error{"cannot read \"" + path + "\" at commit " + commit + ": " + git_error_text()};
  }
  EntryPtr entry(raw);
  if (git_tree_entry_type(raw) != GIT_OBJECT_BLOB) {
    return std::optional<std::string>{};  // a folder or a submodule: no file there
  }
  git_blob* blob = nullptr;
  if (git_blob_lookup(&blob, m_repo, git_tree_entry_id(raw)) != 0) {
    return Error{"cannot read \"" + path + "\" at commit " + commit + ": " + git_error_text()};
  }
  BlobPtr b(blob);
  return std::optional<std::string>(std::string(static_cast<const char*>(git_blob_rawcontent(blob)),
                                                static_cast<std::size_t>(git_blob_rawsize(blob))));
}

std::optional<std::string> GitRepository::file_id(const std::string& commit,
                                                  const std::string& path) {
  TreePtr tree = tree_of(m_repo, commit);
  git_tree_entry* raw = nullptr;
  if (!tree || git_tree_entry_bypath(&raw, tree.get(), path.c_str()) != 0) {
    return std::nullopt;
  }
  EntryPtr entry(raw);
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, git_tree_entry_id(raw));
  return std::string(hex);
}

std::optional<std::vector<std::string>> GitRepository::changed_files(const std::string& from,
                                                                     const std::string& to) {
  TreePtr old_tree = tree_of(m_repo, from);
  TreePtr new_tree = tree_of(m_repo, to);
  if (!old_tree || !new_tree) {
    return std::nullopt;
  }
  git_diff* diff = nullptr;
  if (git_diff_tree_to_tree(&diff, m_repo, old_tree.get(), new_tree.get(), nullptr) != 0) {
    return std::nullopt;
  }
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    paths.emplace_back(d->new_file.path != nullptr ? d->new_file.path : d->old_file.path);
  }
  git_diff_free(diff);
  return paths;
}

std::optional<std::string> GitRepository::unsafe_prefix(const std::string& commit,
                                                        const std::string& path, PathKind kind) {
  TreePtr tree = tree_of(m_repo, commit);
  auto parts = split_path(path);
  std::string prefix;
  for (std::size_t i = 0; tree && i < parts.size(); ++i) {
    prefix += (i == 0 ? "" : "/") + parts[i];
    const git_tree_entry* e = git_tree_entry_byname(tree.get(), parts[i].c_str());
    const bool last = i + 1 == parts.size();
    if (e == nullptr) {
      return std::nullopt;  // absent: made as needed
    }
    if (!holds(e, last ? kind : PathKind::folder)) {
      return prefix;
    }
    git_tree* sub = nullptr;
    if (!last && git_tree_lookup(&sub, m_repo, git_tree_entry_id(e)) != 0) {
      return prefix;
    }
    tree.reset(sub);
  }
  return std::nullopt;
}

std::vector<std::string> GitRepository::list(const std::string& commit, const std::string& dir) {
  std::vector<std::string> names;
  TreePtr root = tree_of(m_repo, commit);
  if (!root) {
    return names;
  }
  TreePtr sub;
  const git_tree* tree = root.get();
  if (!dir.empty()) {
    git_tree_entry* raw = nullptr;
    if (git_tree_entry_bypath(&raw, root.get(), dir.c_str()) != 0) {
      return names;
    }
    EntryPtr entry(raw);
    git_tree* t = nullptr;
    if (git_tree_entry_type(raw) != GIT_OBJECT_TREE ||
        git_tree_lookup(&t, m_repo, git_tree_entry_id(raw)) != 0) {
      return names;
    }
    sub.reset(t);
    tree = t;
  }
  for (std::size_t i = 0; i < git_tree_entrycount(tree); ++i) {
    names.emplace_back(git_tree_entry_name(git_tree_entry_byindex(tree, i)));
  }
  return names;
}

CommitOutcome GitRepository::commit(const CommitRequest& request) {
  std::shared_lock writing(m_writing);
  if (head() != request.parent) {
    return CommitOutcome{CommitStatus::parent_moved, "", ""};
  }
  TreePtr tree;
  CommitPtr parent;
  git_oid id;
  // git gc's prune-packed removes object folders it emptied; one libgit2 had
  // just made for a new object is then gone when the object is renamed into
  // it. As git does in that case, write again: objects are content-addressed.
  for (int attempt = 1;; ++attempt) {
    auto stopped = build_commit_tree(m_repo, request, tree);
    if (!stopped) {
      stopped = write_commit(m_repo, m_options, request, tree.get(), parent, id);
    }
    if (!stopped) {
      break;
    }
    if (stopped->status != CommitStatus::failed || attempt == k_object_write_attempts) {
      return *stopped;
    }
  }
  // Durable like a database commit, with two syncs per commit however many
  // objects it wrote: the objects reach the disk before the branch points at
  // them, and the branch before the caller hears "committed".
  if (!sync_filesystem()) {
    return commit_failed("cannot sync the repository to disk");
  }
  int rc = swap_branch(m_repo, ref_name(), id, parent.get(), request.message);
  if (rc == GIT_ELOCKED) {
    remove_stale_branch_lock(k_stale_lock_age);
  }
  if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED || rc == GIT_EEXISTS) {
    return CommitOutcome{CommitStatus::parent_moved, "", ""};
  }
  if (rc != 0) {
    return commit_failed("cannot move the branch");
  }
  if (!sync_filesystem()) {
    return commit_failed("cannot sync the repository to disk");
  }
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &id);
  sync_worktree(request.parent, request.files, request.removals);
  return CommitOutcome{CommitStatus::committed, hex, ""};
}

std::string GitRepository::ref_target(const std::string& ref) {
  git_oid oid;
  if (git_reference_name_to_id(&oid, m_repo, ref.c_str()) != 0) {
    return "";
  }
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

bool GitRepository::is_ancestor(const std::string& ancestor, const std::string& descendant) {
  git_oid a, d;
  if (ancestor.empty()) {
    return true;  // an unborn branch is behind everything
  }
  if (descendant.empty() || git_oid_fromstr(&a, ancestor.c_str()) != 0 ||
      git_oid_fromstr(&d, descendant.c_str()) != 0) {
    return false;
  }
  return git_oid_equal(&a, &d) || git_graph_descendant_of(m_repo, &d, &a) == 1;
}

bool GitRepository::related(const std::string& a, const std::string& b) {
  git_oid x, y, base;
  return git_oid_fromstr(&x, a.c_str()) == 0 && git_oid_fromstr(&y, b.c_str()) == 0 &&
         git_merge_base(&base, m_repo, &x, &y) == 0;
}

CommitOutcome GitRepository::move_branch(const std::string& expected, const std::string& target,
                                         const std::string& why) {
  std::shared_lock writing(m_writing);
  if (head() != expected) {
    return CommitOutcome{CommitStatus::parent_moved, "", ""};
  }
  git_oid new_oid, old_oid;
  if (git_oid_fromstr(&new_oid, target.c_str()) != 0) {
    return CommitOutcome{CommitStatus::failed, "", "bad commit id \"" + target + "\""};
  }
  git_reference* moved = nullptr;
  std::string log_message = "calloutd: " + why;
  int rc = expected.empty() || git_oid_fromstr(&old_oid, expected.c_str()) != 0
               ? git_reference_create(&moved, m_repo, ref_name().c_str(), &new_oid, 0,
                                      log_message.c_str())
               : git_reference_create_matching(&moved, m_repo, ref_name().c_str(), &new_oid, 1,
                                               &old_oid, log_message.c_str());
  git_reference_free(moved);
  if (rc == GIT_ELOCKED) {
    remove_stale_branch_lock(k_stale_lock_age);
  }
  if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED || rc == GIT_EEXISTS) {
    return CommitOutcome{CommitStatus::parent_moved, "", ""};
  }
  if (rc != 0 || !sync_filesystem()) {
    return CommitOutcome{CommitStatus::failed, "", "cannot move the branch: " + git_error_text()};
  }
  // The working tree follows, like after a commit: the changed files' new content.
  if (expected.empty()) {
    // A new clone: check the files out, leaving any file already there alone.
    if (git_repository_workdir(m_repo) != nullptr && !git_repository_head_unborn(m_repo)) {
      git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
      opts.checkout_strategy = GIT_CHECKOUT_SAFE;
      if (git_checkout_head(m_repo, &opts) != 0) {
        log::warn("cannot check out the fetched files", {{"error", git_error_text()}});
      }
    }
    return CommitOutcome{CommitStatus::committed, target, ""};
  }
  std::vector<FileWrite> files;
  std::vector<std::string> removals;
  for (const auto& path : changed_files(expected, target).value_or(std::vector<std::string>{})) {
    auto content = read(target, path);
    if (!content.ok()) {
      log::warn("cannot read a fetched file; its working-tree copy is left as it is",
                {{"file", path}, {"error", content.error()}});
    } else if (*content) {
      files.push_back({path, std::move(**content)});
    } else {
      removals.push_back(path);
    }
  }
  sync_worktree(expected, files, removals);
  return CommitOutcome{CommitStatus::committed, target, ""};
}

GitRepository::CarryOver GitRepository::carry_over(const std::string& base, const std::string& tip,
                                                   const std::string& onto) {
  CarryOver out{0, onto};
  std::vector<git_oid> foreign = commits_not_by(m_repo, m_options.author_email, base, tip);
  out.commits = foreign.size();
  git_oid current;
  if (foreign.empty() || git_oid_fromstr(&current, onto.c_str()) != 0) {
    return out;
  }
  for (const auto& id : foreign) {
    auto picked = cherry_pick(m_repo, id, current);
    if (!picked) {
      out.head.reset();
      return out;
    }
    current = *picked;
  }
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &current);
  out.head = hex;
  return out;
}

bool GitRepository::keep(const std::string& ref, const std::string& commit) {
  git_oid oid;
  git_reference* created = nullptr;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0 ||
      git_reference_create(&created, m_repo, ref.c_str(), &oid, 1, "calloutd: kept") != 0) {
    return false;
  }
  git_reference_free(created);
  return true;
}

void GitRepository::sync_worktree(const std::string& old_commit,
                                  const std::vector<FileWrite>& files,
                                  const std::vector<std::string>& removals) {
  const char* workdir = git_repository_workdir(m_repo);
  if (workdir == nullptr) {
    return;  // bare repository
  }
  git_reference* raw_head = nullptr;
  if (git_reference_lookup(&raw_head, m_repo, "HEAD") != 0) {
    return;
  }
  RefPtr head_ref(raw_head);
  const char* target = git_reference_symbolic_target(raw_head);
  if (target == nullptr || ref_name() != target) {
    return;  // another branch is checked out: that working tree is not ours to touch
  }
  git_index* raw_index = nullptr;
  if (git_repository_index(&raw_index, m_repo) != 0) {
    return;
  }
  IndexPtr index(raw_index);
  git_index_read(raw_index, 0);
  TreePtr old_tree = tree_of(m_repo, old_commit);
  bool index_changed = false;
  for (const auto& file : files) {
    if (auto unsafe = unsafe_in_worktree(workdir, file.path); !unsafe.empty()) {
      // Someone's uncommitted symlink (or file, or folder) in the way: never
      // follow it out of the working tree.
      log::warn(
          "not writing through a symlink or non-folder in the working tree; the daemon's "
          "change is committed on the branch",
          {{"file", file.path}, {"path", unsafe}});
      continue;
    }
    auto old = read(old_commit, file.path);
    if (!old.ok()) {
      // Without the old text an edit cannot be told from a clean file: leave it.
      log::warn("cannot read a file's previous version; its working-tree copy is left as it is",
                {{"file", file.path}, {"error", old.error()}});
      continue;
    }
    if (update_worktree_file(workdir, raw_index, old_tree.get(), *old, file)) {
      index_changed = true;
    }
  }
  for (const auto& path : removals) {
    auto old = read(old_commit, path);
    if (old.ok() && unsafe_in_worktree(workdir, path).empty() &&
        remove_worktree_file(workdir, raw_index, old_tree.get(), *old, path)) {
      index_changed = true;
    }
  }
  if (index_changed && git_index_write(raw_index) != 0) {
    log::warn("cannot update the index (is git running?)", {{"error", git_error_text()}});
  }
}

}  // namespace calloutd

namespace calloutd {
namespace {

// How far back changes_of() looks: an edit older than this many commits is
// attributed to the oldest commit looked at.
constexpr std::size_t k_history_depth = 2000;

std::string hex_of(const git_oid* oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, oid);
  return hex;
}

}  // namespace

std::vector<FileChange> GitRepository::changes_of(const std::string& head, const std::string& path,
                                                  std::size_t limit) {
  std::vector<FileChange> out;
  git_oid oid;
  git_commit* raw = nullptr;
  if (head.empty() || git_oid_fromstr(&oid, head.c_str()) != 0 ||
      git_commit_lookup(&raw, m_repo, &oid) != 0) {
    return out;
  }
  CommitPtr commit(raw);
  auto here = file_id(head, path);
  for (std::size_t depth = 0; depth < k_history_depth && out.size() < limit; ++depth) {
    git_commit* parent_raw = nullptr;
    bool has_parent = git_commit_parent(&parent_raw, commit.get(), 0) == 0;
    CommitPtr parent(parent_raw);
    std::string parent_id = has_parent ? hex_of(git_commit_id(parent.get())) : "";
    auto before = has_parent ? file_id(parent_id, path) : std::nullopt;
    if (before != here) {
      const git_signature* author = git_commit_author(commit.get());
      FileChange change;
      change.commit = hex_of(git_commit_id(commit.get()));
      change.committed_at =
          TimePoint{std::chrono::seconds{git_commit_committer(commit.get())->when.time}};
      change.by_us = author != nullptr && m_options.author_name == author->name &&
                     m_options.author_email == author->email;
      if (before) {
        auto text = read(parent_id, path);
        if (!text.ok()) {
          // Stop at a damaged object rather than tell of a file that was absent.
          log::warn("cannot read a file's history further",
                    {{"file", path}, {"commit", parent_id}, {"error", text.error()}});
          break;
        }
        change.before = std::move(*text);
      }
      out.push_back(std::move(change));
    }
    if (!has_parent) {
      break;
    }
    commit = std::move(parent);
    here = before;
  }
  return out;
}

}  // namespace calloutd
