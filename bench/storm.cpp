#include "storm.hpp"

#include <atomic>
#include <cstdio>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

namespace calloutd::bench {

namespace {

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

}  // namespace

json storm(const Target& target, const json& sample, const fs::path& work, int n, int concurrency) {
  std::cout << "\n== Storm: " << n << " new alert groups, " << concurrency << " connections ("
            << target.label << ") ==\n";
  auto dir = work / ("storm-" + std::to_string(n) + "-" + target.label);
  fs::create_directories(dir);
  auto d = start_daemon(target.calloutd, dir);
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
json remote_storm(const Target& target, const json& sample, const fs::path& work, int n,
                  int daemons) {
  std::cout << "\n== Remote: " << n << " new alert groups, " << daemons
            << (daemons == 1 ? " daemon" : " daemons (an HA pair)") << " pushing (" << target.label
            << ") ==\n";
  auto dir =
      work / ("remote-" + std::to_string(n) + "-" + std::to_string(daemons) + "-" + target.label);
  auto bare = dir / "remote.git";
  fs::create_directories(dir);
  run("git init -q --bare -b main '" + bare.string() + "'");
  std::vector<Daemon> pair;
  for (int k = 0; k < daemons; ++k) {
    auto home = dir / ("daemon-" + std::to_string(k));
    fs::create_directories(home);
    pair.push_back(start_daemon(target.calloutd, home, nullptr,
                                {.remote = bare.string(), .repository_extra = ""}));
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

}  // namespace calloutd::bench
