// An in-memory Repository for the engine's unit tests: commits are snapshots
// of a path->content map, and `concurrent_commit` simulates someone else
// committing between the engine's read and its commit.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/git/repository.hpp"
#include "daemon/state/group_state.hpp"

namespace calloutd::testing {

class FakeRepository final : public Repository {
 public:
  using Tree = std::map<std::string, std::string>;

  std::string head() override { return m_commits.empty() ? "" : std::to_string(m_commits.size()); }

  // Like git: "" (an unborn branch) holds no files, and an id that names no
  // commit is an error, not an absent file.
  FileRead read(const std::string& commit, const std::string& path) override {
    if (auto failure = m_read_failures.find(path); failure != m_read_failures.end()) {
      return Error{"cannot read \"" + path + "\" at commit " + commit + ": " + failure->second};
    }
    if (!commit.empty() && tree(commit) == nullptr) {
      return Error{"cannot read \"" + path + "\" at commit \"" + commit + "\": no such commit"};
    }
    return content(commit, path);
  }

  // Every read() of `path` fails with `message` (a damaged object, say) until
  // heal_reads_of(path); the other calls still see the file.
  void fail_reads_of(const std::string& path, const std::string& message) {
    m_read_failures[path] = message;
  }
  void heal_reads_of(const std::string& path) { m_read_failures.erase(path); }

  std::vector<std::string> list(const std::string& commit, const std::string& dir) override {
    std::set<std::string> names;
    const Tree* t = tree(commit);
    std::string prefix = dir.empty() ? "" : dir + "/";
    if (t != nullptr) {
      for (const auto& [path, content] : *t) {
        if (path.rfind(prefix, 0) == 0) {
          auto rest = path.substr(prefix.size());
          names.insert(rest.substr(0, rest.find('/')));
        }
      }
    }
    return {names.begin(), names.end()};
  }

  std::optional<std::string> file_id(const std::string& commit, const std::string& path) override {
    auto text = content(commit, path);
    return text ? std::optional(std::to_string(std::hash<std::string>{}(*text))) : std::nullopt;
  }

  std::vector<FileChange> changes_of(const std::string& head, const std::string& path,
                                     std::size_t limit) override {
    std::vector<FileChange> out;
    for (std::size_t n = number_of(head).value_or(0); n > 0 && out.size() < limit; --n) {
      auto here = content(std::to_string(n), path);
      auto before = n > 1 ? content(std::to_string(n - 1), path) : std::nullopt;
      if (here != before) {
        out.push_back({std::to_string(n), m_times[n - 1], !m_by_hand[n - 1], before});
      }
    }
    return out;
  }

  std::optional<std::vector<std::string>> changed_files(const std::string& from,
                                                        const std::string& to) override {
    const Tree* a = tree(from);
    const Tree* b = tree(to);
    if (a == nullptr || b == nullptr) {
      return std::nullopt;
    }
    std::set<std::string> out;
    for (const auto& [path, content] : *a) {
      if (!b->contains(path) || b->at(path) != content) {
        out.insert(path);
      }
    }
    for (const auto& [path, content] : *b) {
      if (!a->contains(path)) {
        out.insert(path);
      }
    }
    return std::vector<std::string>(out.begin(), out.end());
  }

  // A file (or a symlink committed by hand, which the fake keeps as a file)
  // on the way is unsafe, and so is a folder (a prefix of files) where a file goes.
  std::optional<std::string> unsafe_prefix(const std::string& commit, const std::string& path,
                                           PathKind kind) override {
    const Tree* t = tree(commit);
    for (auto slash = path.find('/'); t != nullptr; slash = path.find('/', slash + 1)) {
      auto prefix = path.substr(0, slash);
      if (t->contains(prefix) && (slash != std::string::npos || kind == PathKind::folder)) {
        return prefix;
      }
      if (slash == std::string::npos) {
        break;
      }
    }
    if (t != nullptr && kind == PathKind::file) {
      auto below = t->lower_bound(path + "/");
      if (below != t->end() && below->first.starts_with(path + "/")) {
        return path;
      }
    }
    return std::nullopt;
  }

  CommitOutcome commit(const CommitRequest& request) override {
    if (failing_commits > 0) {
      --failing_commits;
      return {CommitStatus::failed, "", "no space left on device (FakeRepository)"};
    }
    if (before_commit) {
      auto hook = std::move(before_commit);
      before_commit = nullptr;
      hook();
    }
    if (request.parent != head()) {
      return {CommitStatus::parent_moved, "", ""};
    }
    Tree next = m_commits.empty() ? Tree{} : m_commits.back();
    for (const auto& f : request.files) {
      if (auto unsafe = unsafe_prefix(request.parent, f.path, PathKind::file)) {
        return {CommitStatus::unsafe_path, "", "refusing to write through \"" + *unsafe + "\""};
      }
      next[f.path] = f.content;
    }
    for (const auto& path : request.removals) {
      next.erase(path);
    }
    push(std::move(next), request.message, false);
    return {CommitStatus::committed, head(), ""};
  }

  // An engineer's commit on top of the current head.
  void commit_by_hand(const std::string& path, const std::string& content) {
    Tree next = m_commits.empty() ? Tree{} : m_commits.back();
    next[path] = content;
    push(std::move(next), "by hand", true);
  }

  void remove_by_hand(const std::string& path) {
    Tree next = m_commits.back();
    next.erase(path);
    push(std::move(next), "removed by hand", true);
  }

  std::size_t commit_count() const { return m_commits.size(); }
  std::string file(const std::string& path) { return content(head(), path).value_or(""); }

  std::vector<std::string> messages;
  std::function<void()> before_commit;  // runs once, inside the next commit()
  TimePoint commit_time{};              // the committer time of the commits that follow
  int failing_commits = 0;  // how many of the next commit() calls fail, as on a full disk

 private:
  void push(Tree next, const std::string& message, bool by_hand) {
    m_commits.push_back(std::move(next));
    m_times.push_back(commit_time);
    m_by_hand.push_back(by_hand);
    messages.push_back(message);
  }

  // The commit numbered `commit` (1, 2, ...), nullopt when there is none.
  std::optional<std::size_t> number_of(const std::string& commit) const {
    if (commit.empty() || commit.size() > 9 ||
        commit.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    std::size_t n = std::stoul(commit);
    return n == 0 || n > m_commits.size() ? std::nullopt : std::optional(n);
  }
  const Tree* tree(const std::string& commit) const {
    auto n = number_of(commit);
    return n ? &m_commits[*n - 1] : nullptr;
  }
  std::optional<std::string> content(const std::string& commit, const std::string& path) const {
    const Tree* t = tree(commit);
    if (t == nullptr || !t->contains(path)) {
      return std::nullopt;
    }
    return t->at(path);
  }
  std::vector<Tree> m_commits;
  std::vector<TimePoint> m_times;
  std::vector<bool> m_by_hand;
  std::map<std::string, std::string> m_read_failures;  // path -> why reading it fails
};

// The group state files at `commit`, in either layout (flat or sharded), sorted.
inline std::vector<std::string> state_files(Repository& repo, const std::string& commit) {
  std::vector<std::string> paths;
  for (const auto& name : repo.list(commit, k_state_dir)) {
    const auto path = std::string(k_state_dir) + "/" + name;
    if (name.ends_with(".json")) {
      paths.push_back(path);
      continue;
    }
    for (const auto& file : repo.list(commit, path)) {
      paths.push_back(path + "/" + file);
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace calloutd::testing
