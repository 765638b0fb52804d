#include "ceiling.hpp"

#include <git2.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace calloutd::bench {
namespace {

void check(int rc, const char* what) {
  if (rc < 0) {
    const git_error* e = git_error_last();
    throw std::runtime_error(std::string(what) + ": " + (e ? e->message : "?"));
  }
}

// The ceiling: `n` commits of two files each, made directly with libgit2.
double libgit2_commits(const fs::path& dir, int n, const std::string& callout,
                       const std::string& postmortem) {
  git_repository* repo = nullptr;
  check(git_repository_init(&repo, dir.c_str(), 0), "init");
  git_signature* sig = nullptr;
  check(git_signature_now(&sig, "bench", "bench@localhost"), "signature");
  git_oid parent{};
  bool has_parent = false;
  git_oid tree_oid{};
  git_tree* root = nullptr;
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    git_oid a, b, folder_oid, tech_oid, commit_oid;
    check(git_blob_create_from_buffer(&a, repo, callout.data(), callout.size()), "blob");
    check(git_blob_create_from_buffer(&b, repo, postmortem.data(), postmortem.size()), "blob");
    git_treebuilder* folder = nullptr;
    check(git_treebuilder_new(&folder, repo, nullptr), "tb");
    git_treebuilder_insert(nullptr, folder, "callout.md", &a, GIT_FILEMODE_BLOB);
    git_treebuilder_insert(nullptr, folder, "postmortem.md", &b, GIT_FILEMODE_BLOB);
    check(git_treebuilder_write(&folder_oid, folder), "tb write");
    git_treebuilder_free(folder);
    // bench/<folder i> under the previous root.
    git_tree* tech_tree = nullptr;
    const git_tree_entry* tech_entry = root ? git_tree_entry_byname(root, "bench") : nullptr;
    if (tech_entry) {
      check(git_tree_lookup(&tech_tree, repo, git_tree_entry_id(tech_entry)), "lookup");
    }
    git_treebuilder* tech = nullptr;
    check(git_treebuilder_new(&tech, repo, tech_tree), "tb");
    auto name = "storm-" + std::to_string(i) + "-2026-11-22";
    git_treebuilder_insert(nullptr, tech, name.c_str(), &folder_oid, GIT_FILEMODE_TREE);
    check(git_treebuilder_write(&tech_oid, tech), "tb write");
    git_treebuilder_free(tech);
    git_tree_free(tech_tree);
    git_treebuilder* top = nullptr;
    check(git_treebuilder_new(&top, repo, root), "tb");
    git_treebuilder_insert(nullptr, top, "bench", &tech_oid, GIT_FILEMODE_TREE);
    check(git_treebuilder_write(&tree_oid, top), "tb write");
    git_treebuilder_free(top);
    git_tree_free(root);
    check(git_tree_lookup(&root, repo, &tree_oid), "lookup");
    git_commit* parent_commit = nullptr;
    if (has_parent) {
      check(git_commit_lookup(&parent_commit, repo, &parent), "parent");
    }
    const git_commit* parents[] = {parent_commit};
    check(git_commit_create(&commit_oid, repo, "refs/heads/main", sig, sig, nullptr, name.c_str(),
                            root, has_parent ? 1 : 0, parents),
          "commit");
    git_commit_free(parent_commit);
    parent = commit_oid;
    has_parent = true;
  }
  double secs = seconds_since(start);
  git_tree_free(root);
  git_signature_free(sig);
  git_repository_free(repo);
  return n / secs;
}

// The ceiling with the git command line: add two files and commit, `n` times.
double git_cli_commits(const fs::path& dir, int n, const std::string& callout,
                       const std::string& postmortem) {
  fs::create_directories(dir);
  run("git -C '" + dir.string() + "' init -q -b main");
  write_file(dir / "callout.tmpl", callout);
  write_file(dir / "postmortem.tmpl", postmortem);
  auto start = Clock::now();
  run("cd '" + dir.string() + "' && for i in $(seq 1 " + std::to_string(n) +
      "); do d=bench/storm-$i-2026-11-22; mkdir -p $d && cp callout.tmpl $d/callout.md && "
      "cp postmortem.tmpl $d/postmortem.md && git add $d && "
      "git -c user.name=bench -c user.email=b@localhost commit -qm \"$d: opened\"; done");
  return n / seconds_since(start);
}

// A repository of `folders` resolved incidents, each with a postmortem
// holding three action items, committed in one go.
void make_big_repository(const fs::path& dir, int folders, const std::string& callout,
                         const std::string& postmortem) {
  fs::create_directories(dir);
  run("git -C '" + dir.string() + "' init -q -b main");
  for (int i = 0; i < folders; ++i) {
    auto d =
        dir / ("tech-" + std::to_string(i % 20)) / ("issue-" + std::to_string(i) + "-2026-10-01");
    write_file(d / "callout.md", callout);
    write_file(d / "postmortem.md", postmortem);
  }
  run("cd '" + dir.string() +
      "' && git add -A && git -c user.name=bench -c user.email=b@localhost "
      "commit -qm 'history' && git gc -q");
}

std::string postmortem_with_items() {
  return R"(# Disk full - POSTMORTEM - 2026-10-01

## Status
published

## Summary
The volume filled up.

## Action Items
| Type | Action | Owner | Due | Status | Ticket |
|------|--------|-------|-----|--------|--------|
| prevent | Alert on 80% full | storage team | 2026-10-15 | DONE | OPS-1 |
| mitigate | Rotate logs hourly | storage team | 2026-12-01 | IN PROGRESS | OPS-2 |
| detect | Dashboard panel for inode use | storage team | 2026-09-01 | TODO | n/a |
)";
}

// One daemon started on the copy of `repository` in `dir`.
json scale_one(const Target& target, const fs::path& repository, const fs::path& dir, int folders) {
  fs::create_directories(dir);
  run("cp -a '" + repository.string() + "' '" + (dir / "callouts").string() + "'");
  double ready = 0;
  auto d = start_daemon(target.calloutd, dir, &ready);
  auto c = d.client();
  std::vector<double> scrapes;
  std::size_t bytes = 0;
  for (int i = 0; i < 20; ++i) {
    auto t0 = Clock::now();
    auto r = c.Get("/metrics");
    scrapes.push_back(seconds_since(t0));
    bytes = r ? r->body.size() : 0;
  }
  double rss = d.child->memory_mib("VmRSS:");
  std::printf(
      "%8d folders (%s): ready after %.2f s, /metrics p50 %.1f ms (%zu bytes), RSS %.1f MiB\n",
      folders, target.label.c_str(), ready, percentile(scrapes, 0.5) * 1000, bytes, rss);
  return {{"folders", folders},
          {"cold_start_s", ready},
          {"metrics_scrape_p50_ms", percentile(scrapes, 0.5) * 1000},
          {"metrics_bytes", bytes},
          {"rss_mib", rss}};
}

}  // namespace

std::vector<json> scale(const std::vector<Target>& targets, const fs::path& work, int folders,
                        const std::string& callout, int row) {
  auto dir = work / ("scale-" + std::to_string(folders));
  make_big_repository(dir / "template", folders, callout, postmortem_with_items());
  std::vector<json> rows(targets.size());
  for (auto k : in_turn(targets.size(), row)) {
    rows[k] = scale_one(targets[k], dir / "template", dir / targets[k].label, folders);
  }
  return rows;
}

// The ceiling: the same two files the daemon wrote for the first storm group,
// committed directly.
json ceiling(const fs::path& work, const std::vector<int>& counts, const std::string& callout,
             const std::string& postmortem) {
  std::cout << "\n== Ceiling: two-file commits made directly ==\n";
  json rows = json::array();
  for (int n : counts) {
    double lg = libgit2_commits(work / ("libgit2-" + std::to_string(n)), n, callout, postmortem);
    // git from the shell: 1,000 commits at most (10,000 would take minutes; the rate holds).
    int git_n = std::min(n, 1000);
    double cli = git_cli_commits(work / ("git-" + std::to_string(n)), git_n, callout, postmortem);
    std::printf("%6d commits: libgit2 loop %.0f commits/s; git CLI %.0f commits/s (over %d)\n", n,
                lg, cli, git_n);
    rows.push_back({{"commits", n},
                    {"libgit2_commits_per_second", lg},
                    {"git_cli_commits_per_second", cli},
                    {"git_cli_measured_over", git_n}});
  }
  return rows;
}

}  // namespace calloutd::bench
