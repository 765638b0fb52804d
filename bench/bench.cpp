// calloutd's benchmark (bench/run builds and runs it). Everything on
// loopback, started and stopped here: the daemon, a bare cpp-httplib server
// for the ceiling, wrk for saturation load, our own client where per-request
// times matter (the storm), libgit2 and git for the commit ceiling.
//
//   calloutd_bench --calloutd BIN --bare-server BIN --lua FILE --sample FILE
//                  --out results.json [--quick]
//   calloutd_bench --soak MINUTES --calloutd BIN --sample FILE --out soak.json
//                  [--repository-extra YAML]   (soak.hpp)
#include <git2.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "soak.hpp"
#include "support.hpp"

namespace calloutd::bench {
namespace {

constexpr double k_mib = 1024.0 * 1024.0;

double percentile(std::vector<double> v, double q) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// histogram_quantile over the cumulative buckets of `name` in an exposition.
double histogram_quantile(const std::string& exposition, const std::string& name, double q) {
  std::vector<std::pair<double, double>> buckets;  // le, cumulative count
  std::regex line(name + R"re(_bucket\{le="([^"]+)"\} ([0-9.e+]+))re");
  for (std::sregex_iterator it(exposition.begin(), exposition.end(), line), end; it != end; ++it) {
    double le = (*it)[1] == "+Inf" ? INFINITY : std::stod((*it)[1]);
    buckets.emplace_back(le, std::stod((*it)[2]));
  }
  if (buckets.empty() || buckets.back().second == 0) {
    return 0;
  }
  double rank = q * buckets.back().second;
  double prev_le = 0, prev_count = 0;
  for (const auto& [le, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(le)) {
        return prev_le;
      }
      return prev_le + (le - prev_le) * (rank - prev_count) / std::max(count - prev_count, 1e-9);
    }
    prev_le = le;
    prev_count = count;
  }
  return prev_le;
}

// wrk at `connections` for `seconds` against `url`; requests per second.
double wrk(const std::string& url, const std::string& lua, const fs::path& body, int connections,
           int seconds) {
  auto out =
      run("BENCH_BODY='" + body.string() + "' wrk -t" + std::to_string(std::min(connections, 2)) +
          " -c" + std::to_string(connections) + " -d" + std::to_string(seconds) + "s -s '" + lua +
          "' " + url + "/api/v1/alertmanager 2>&1");
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    if (out.find("Non-2xx") != std::string::npos) {
      std::cerr << "wrk saw non-2xx answers:\n" << out;
    }
    return std::stod(m[1]);
  }
  std::cerr << "wrk failed:\n" << out;
  return 0;
}

json refire(const std::string& calloutd, const std::string& bare, const std::string& lua,
            const json& sample, const fs::path& work, bool quick) {
  std::cout << "\n== Re-fire throughput (one open incident's notification, repeated) ==\n";
  auto dir = work / "refire";
  fs::create_directories(dir);
  auto d = start_daemon(calloutd, dir);
  auto body = storm_body(sample, 0);
  write_file(dir / "body.json", body);
  auto c = d.client();
  auto r = c.Post("/api/v1/alertmanager", body, "application/json");
  wait_for(30, [&] {
    auto list = c.Get("/api/v1/incidents");
    return list && json::parse(list->body)["incidents"].size() == 1;
  });
  auto port_file = dir / "bare.port";
  Child server({bare}, port_file, dir);
  wait_for(10, [&] { return !read_file(port_file).empty(); });
  std::string bare_url = "http://127.0.0.1:" + std::to_string(std::stoi(read_file(port_file)));
  json rows = json::array();
  std::printf("%12s %16s %16s %8s\n", "connections", "calloutd req/s", "bare req/s", "ratio");
  for (int conns : {1, 8, 32, 64}) {
    int secs = quick ? 2 : 5;
    double ours = wrk(d.url(), lua, dir / "body.json", conns, secs);
    double theirs = wrk(bare_url, lua, dir / "body.json", conns, secs);
    double ratio = theirs > 0 ? ours / theirs : 0;
    std::printf("%12d %16.0f %16.0f %8.2f\n", conns, ours, theirs, ratio);
    rows.push_back(
        {{"connections", conns}, {"calloutd_rps", ours}, {"bare_rps", theirs}, {"ratio", ratio}});
  }
  // Nothing new came of it: still one callout, one incident.
  auto commits = run("git -C '" + (dir / "callouts").string() + "' rev-list --count HEAD");
  std::printf("commits in the repository after the re-fires: %s", commits.c_str());
  return rows;
}

// The clone's size after a load phase, printed and per 1,000 callouts.
json repository_report(const fs::path& worktree, std::size_t callouts) {
  auto size = repository_size(worktree);
  json j = to_json(size, callouts);
  double per = callouts > 0 ? 1000.0 / static_cast<double>(callouts) : 0;
  std::printf(
      "repository: .git %.1f MiB (%.1f MiB per 1,000 callouts); %ju loose objects (%.0f per "
      "1,000), %.1f MiB; %ju packs, %.1f MiB\n",
      mib(size.git_bytes), mib(size.git_bytes) * per, size.loose_objects,
      static_cast<double>(size.loose_objects) * per, mib(size.loose_bytes), size.packs,
      mib(size.pack_bytes));
  return j;
}

json storm(const std::string& calloutd, const json& sample, const fs::path& work, int n,
           int concurrency) {
  std::cout << "\n== Storm: " << n << " new alert groups, " << concurrency << " connections ==\n";
  auto dir = work / ("storm-" + std::to_string(n));
  fs::create_directories(dir);
  auto d = start_daemon(calloutd, dir);
  double rss_before = d.child->memory_mib("VmRSS:");
  std::vector<std::string> bodies;
  for (int i = 0; i < n; ++i) {
    bodies.push_back(storm_body(sample, i));
  }
  std::vector<double> latency(static_cast<std::size_t>(n));
  std::vector<double> sent_at(static_cast<std::size_t>(n));
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int t = 0; t < concurrency; ++t) {
    clients.emplace_back([&] {
      auto c = d.client();
      c.set_keep_alive(true);
      for (int i = next++; i < n; i = next++) {
        auto t0 = Clock::now();
        auto r =
            c.Post("/api/v1/alertmanager", bodies[static_cast<std::size_t>(i)], "application/json");
        if (!r || r->status != 200) {
          ++failures;
        }
        sent_at[static_cast<std::size_t>(i)] = std::chrono::duration<double>(t0 - start).count();
        latency[static_cast<std::size_t>(i)] = seconds_since(t0);
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  double accepted_after = seconds_since(start);
  double rss_peak_during = d.child->memory_mib("VmHWM:");
  // Drained: every group is an open incident.
  auto c = d.client();
  std::size_t open = 0;
  wait_for(900, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // listing 10k is not free
    auto list = c.Get("/api/v1/incidents");
    open = list ? json::parse(list->body)["incidents"].size() : 0;
    return open >= static_cast<std::size_t>(n);
  });
  double drained_after = seconds_since(start);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // let the scanner settle
  auto metrics = c.Get("/metrics")->body;
  double steady = d.child->memory_mib("VmRSS:");
  double peak = d.child->memory_mib("VmHWM:");
  auto repo = (dir / "callouts").string();
  int git_commits = std::stoi(run("git -C '" + repo + "' rev-list --count HEAD"));
  // From the history: each storm group's commit time (1 s resolution) minus its send time.
  std::vector<double> history;
  {
    // Each commit: "\x01<commit time>", then its message, one "- <folder>: opened" line per
    // callout.
    auto log = run("git -C '" + repo + "' log --format='%x01%ct%n%B'");
    auto wall_start =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
        seconds_since(start);
    std::regex commit_time("\x01(\\d+)");
    std::regex opened(R"(bench/storm-(\d+)-\d{4}-\d{2}-\d{2}: opened)");
    double ct = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (std::regex_search(line, m, commit_time)) {
        ct = std::stod(m[1]);
      } else if (std::regex_search(line, m, opened)) {
        auto i = static_cast<std::size_t>(std::stoi(m[1]));
        if (i < sent_at.size()) {
          // Commit times are whole seconds: the end of that second bounds it.
          history.push_back(ct + 1 - (wall_start + sent_at[i]));
        }
      }
    }
  }
  json row{{"groups", n},
           {"connections", concurrency},
           {"failed_requests", failures.load()},
           {"accepted_per_second", n / accepted_after},
           {"webhook_to_2xx_p50_ms", percentile(latency, 0.5) * 1000},
           {"webhook_to_2xx_p99_ms", percentile(latency, 0.99) * 1000},
           {"webhook_to_commit_p50_s_histogram",
            histogram_quantile(metrics, "calloutd_webhook_to_commit_seconds", 0.5)},
           {"webhook_to_commit_p99_s_histogram",
            histogram_quantile(metrics, "calloutd_webhook_to_commit_seconds", 0.99)},
           {"webhook_to_commit_p50_s_history", percentile(history, 0.5)},
           {"webhook_to_commit_p99_s_history", percentile(history, 0.99)},
           {"callouts_committed", open},
           {"callouts_per_second", static_cast<double>(open) / drained_after},
           {"git_commits", git_commits},
           {"git_commits_per_second", git_commits / drained_after},
           {"drained_after_s", drained_after},
           {"rss_before_mib", rss_before},
           {"rss_peak_while_accepting_mib", rss_peak_during},
           {"rss_peak_mib", peak},
           {"rss_after_drain_mib", steady}};
  std::printf("accepted %d in %.2f s (%.0f/s), %d failed; 2xx p50 %.1f ms, p99 %.1f ms\n", n,
              accepted_after, n / accepted_after, failures.load(),
              row["webhook_to_2xx_p50_ms"].get<double>(),
              row["webhook_to_2xx_p99_ms"].get<double>());
  std::printf(
      "all %zu callouts committed after %.2f s: %.0f callouts/s in %d git commits (%.1f/s)\n", open,
      drained_after, static_cast<double>(open) / drained_after, git_commits,
      git_commits / drained_after);
  std::printf(
      "webhook-to-commit p50/p99: %.3f/%.3f s (histogram), %.0f/%.0f s (history: upper bounds, "
      "commit times are whole seconds)\n",
      row["webhook_to_commit_p50_s_histogram"].get<double>(),
      row["webhook_to_commit_p99_s_histogram"].get<double>(), percentile(history, 0.5),
      percentile(history, 0.99));
  std::printf("RSS: %.1f MiB before, peak %.1f MiB, %.1f MiB after the drain\n", rss_before, peak,
              steady);
  row["repository"] = repository_report(dir / "callouts", open);
  return row;
}

// A storm with the repository on a remote (a bare repository on disk, so
// that the network is not what is measured): the time until every callout is
// on the remote, and how many pushes carried them. With `daemons` = 2, an HA
// pair: both receive every notification and share the remote.
json remote_storm(const std::string& calloutd, const json& sample, const fs::path& work, int n,
                  int daemons) {
  std::cout << "\n== Remote: " << n << " new alert groups, " << daemons
            << (daemons == 1 ? " daemon" : " daemons (an HA pair)") << " pushing ==\n";
  auto dir = work / ("remote-" + std::to_string(n) + "-" + std::to_string(daemons));
  auto bare = dir / "remote.git";
  fs::create_directories(dir);
  run("git init -q --bare -b main '" + bare.string() + "'");
  std::vector<Daemon> pair;
  for (int k = 0; k < daemons; ++k) {
    auto home = dir / ("daemon-" + std::to_string(k));
    fs::create_directories(home);
    pair.push_back(
        start_daemon(calloutd, home, nullptr, {.remote = bare.string(), .repository_extra = ""}));
  }
  std::vector<std::string> bodies;
  for (int i = 0; i < n; ++i) {
    bodies.push_back(storm_body(sample, i));
  }
  auto start = Clock::now();
  std::vector<std::thread> clients;
  std::atomic<int> failures{0};
  for (const auto& d : pair) {
    for (int t = 0; t < 8; ++t) {
      clients.emplace_back([&, t] {
        auto c = d.client();
        c.set_keep_alive(true);
        for (int i = t; i < n; i += 8) {
          auto r = c.Post("/api/v1/alertmanager", bodies[static_cast<std::size_t>(i)],
                          "application/json");
          if (!r || r->status != 200) {
            ++failures;
          }
        }
      });
    }
  }
  for (auto& t : clients) {
    t.join();
  }
  double accepted_after = seconds_since(start);
  auto on_remote = [&] {
    auto out = run("git -C '" + bare.string() + "' ls-tree -d --name-only main bench/ 2>/dev/null");
    return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
  };
  auto in_step = [&] {
    auto head = run("git -C '" + bare.string() + "' rev-parse main 2>/dev/null");
    for (int k = 0; k < daemons; ++k) {
      auto repo = dir / ("daemon-" + std::to_string(k)) / "callouts";
      if (run("git -C '" + repo.string() + "' rev-parse main 2>/dev/null") != head) {
        return false;
      }
    }
    return true;
  };
  wait_for(900, [&] { return on_remote() >= n; });
  double on_remote_after = seconds_since(start);
  wait_for(120, in_step);
  double in_step_after = seconds_since(start);
  double pushes = 0, rejected = 0;
  for (const auto& d : pair) {
    auto m = d.client().Get("/metrics")->body;
    auto value = [&](const std::string& series) {
      auto at = m.find("\n" + series + " ");
      return at == std::string::npos ? 0.0 : std::stod(m.substr(at + series.size() + 2));
    };
    pushes += value("calloutd_remote_pushes_total{outcome=\"pushed\"}");
    rejected += value("calloutd_remote_pushes_total{outcome=\"rejected\"}");
  }
  int folders = on_remote();
  int commits = std::stoi(run("git -C '" + bare.string() + "' rev-list --count main"));
  json row{{"groups", n},
           {"daemons", daemons},
           {"failed_requests", failures.load()},
           {"accepted_after_s", accepted_after},
           {"all_on_remote_after_s", on_remote_after},
           {"callouts_on_remote_per_second", folders / on_remote_after},
           {"daemons_in_step_after_s", in_step_after},
           {"callout_folders_on_remote", folders},
           {"remote_commits", commits},
           {"pushes", pushes},
           {"rejected_pushes", rejected}};
  std::printf(
      "accepted %d x %d in %.2f s (%d failed); all %d callouts on the remote after %.2f s "
      "(%.0f/s), in %d commits and %.0f pushes (%.0f rejected); every clone in step after %.2f s\n",
      n, daemons, accepted_after, failures.load(), folders, on_remote_after,
      folders / on_remote_after, commits, pushes, rejected, in_step_after);
  return row;
}

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
  std::ostringstream script;
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

json scale(const std::string& calloutd, const fs::path& work, int folders,
           const std::string& callout, const std::string& postmortem) {
  auto dir = work / ("scale-" + std::to_string(folders));
  make_big_repository(dir / "callouts", folders, callout, postmortem);
  double ready = 0;
  auto d = start_daemon(calloutd, dir, &ready);
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
  std::printf("%8d folders: ready after %.2f s, /metrics p50 %.1f ms (%zu bytes), RSS %.1f MiB\n",
              folders, ready, percentile(scrapes, 0.5) * 1000, bytes, rss);
  return {{"folders", folders},
          {"cold_start_s", ready},
          {"metrics_scrape_p50_ms", percentile(scrapes, 0.5) * 1000},
          {"metrics_bytes", bytes},
          {"rss_mib", rss}};
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

using Options = std::map<std::string, std::string>;

// The ceiling: the same two files the daemon wrote for the first storm group,
// committed directly.
json ceiling(const fs::path& work, bool quick, const std::string& callout,
             const std::string& postmortem) {
  std::cout << "\n== Ceiling: two-file commits made directly ==\n";
  json rows = json::array();
  for (int n : quick ? std::vector<int>{200} : std::vector<int>{1000, 10000}) {
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

// Every phase in turn, each result into `results`.
void run_phases(Options& opt, bool quick, const json& sample, const fs::path& work, json& results) {
  results["refire"] = refire(opt["calloutd"], opt["bare-server"], opt["lua"], sample, work, quick);
  json storms = json::array();
  for (int n : quick ? std::vector<int>{200} : std::vector<int>{1000, 10000}) {
    storms.push_back(storm(opt["calloutd"], sample, work, n, 16));
  }
  results["storm"] = storms;
  json remote = json::array();
  for (int daemons : {1, 2}) {
    remote.push_back(remote_storm(opt["calloutd"], sample, work, quick ? 200 : 1000, daemons));
  }
  results["remote"] = remote;

  auto sample_repo = work / (quick ? "storm-200" : "storm-1000") / "callouts";
  auto callout = run("git -C '" + sample_repo.string() +
                     "' show HEAD:bench/storm-0-2026-11-22/callout.md 2>/dev/null");
  auto postmortem = run("git -C '" + sample_repo.string() +
                        "' show HEAD:bench/storm-0-2026-11-22/postmortem.md 2>/dev/null");
  results["ceiling"] = ceiling(work, quick, callout, postmortem);

  std::cout << "\n== Scale with the repository (cold start, /metrics scrape) ==\n";
  json scales = json::array();
  for (int folders : quick ? std::vector<int>{1000} : std::vector<int>{1000, 10000}) {
    scales.push_back(scale(opt["calloutd"], work, folders, callout.empty() ? "# x\n" : callout,
                           postmortem_with_items()));
  }
  results["scale"] = scales;

  std::cout << "\n== Repository size per 1,000 callouts (after each storm) ==\n";
  for (const auto& row : storms) {
    const auto& per = row["repository"]["per_1000_callouts"];
    std::printf("%6d groups: .git %.1f MiB, %.0f loose objects, %.1f MiB in packs\n",
                row["groups"].get<int>(), per["git_bytes"].get<double>() / k_mib,
                per["loose_objects"].get<double>(), per["pack_bytes"].get<double>() / k_mib);
  }
}

bool has_options(const Options& opt, std::initializer_list<const char*> names) {
  return std::all_of(names.begin(), names.end(), [&](const char* n) { return opt.contains(n); });
}

int bench_main(Options& opt, bool quick) {
  auto work = fs::temp_directory_path() / ("calloutd-bench-" + std::to_string(::getpid()));
  fs::create_directories(work);
  auto started = Clock::now();
  json sample = json::parse(read_file(opt["sample"]));
  if (opt.contains("soak")) {
    int rc = run_soak({.calloutd = opt["calloutd"],
                       .minutes = std::stod(opt["soak"]),
                       .repository_extra = opt["repository-extra"],
                       .out = opt["out"]},
                      sample, work);
    fs::remove_all(work);
    return rc;
  }
  json results;
  results["machine"] = {{"cpus", std::thread::hardware_concurrency()},
                        {"kernel", run("uname -r").substr(0, run("uname -r").find('\n'))}};
  results["quick"] = quick;
  try {
    run_phases(opt, quick, sample, work, results);
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    results["error"] = e.what();
    write_file(opt["out"], results.dump(2) + "\n");
    return 1;
  }
  results["total_seconds"] = seconds_since(started);
  write_file(opt["out"], results.dump(2) + "\n");
  std::printf("\nbench done in %.0f s; results in %s\n", seconds_since(started),
              opt["out"].c_str());
  fs::remove_all(work);
  return 0;
}

}  // namespace
}  // namespace calloutd::bench

int main(int argc, char** argv) {
  using namespace calloutd::bench;
  Options opt;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    }
  }
  bool soak = opt.contains("soak");
  if (!(soak ? has_options(opt, {"calloutd", "sample", "out"})
             : has_options(opt, {"calloutd", "bare-server", "lua", "sample", "out"}))) {
    std::cerr << "usage: calloutd_bench --calloutd BIN --bare-server BIN --lua FILE --sample "
                 "FILE --out FILE [--quick]\n"
                 "       calloutd_bench --soak MINUTES --calloutd BIN --sample FILE --out FILE "
                 "[--repository-extra YAML]\n";
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
  git_libgit2_init();
  int rc = bench_main(opt, quick);
  git_libgit2_shutdown();
  return rc;
}
