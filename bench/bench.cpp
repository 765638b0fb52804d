// calloutd's benchmark (bench/run builds and runs it). Everything on
// loopback, started and stopped here: the daemon, a bare cpp-httplib server
// for the ceiling, wrk for saturation load, our own client where per-request
// times matter (the storm, the quiet path), libgit2 and git for the commit
// ceiling.
//
//   calloutd_bench --calloutd BIN --bare-server BIN --lua FILE --sample FILE
//                  --out results.json [--quick] [--label NAME]
//                  [--compare-calloutd OLD_BIN --compare-label OLD_NAME]
//                  [--only refire|quiet|storm|remote|ceiling|scale] [--groups N,N]
//   calloutd_bench --soak MINUTES --calloutd BIN --sample FILE --out soak.json
//                  [--repository-extra YAML]   (soak.hpp)
//
// With --compare-calloutd, every phase measures both daemons, the old one and
// the new one taking turns row by row (in_turn), and the summary gives both
// figures and their ratio.
#include <git2.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ceiling.hpp"
#include "quiet.hpp"
#include "refire.hpp"
#include "soak.hpp"
#include "storm.hpp"
#include "summary.hpp"
#include "support.hpp"

namespace calloutd::bench {
namespace {

constexpr double k_mib = 1024.0 * 1024.0;

using Options = std::map<std::string, std::string>;

// The sizes of a run: --quick's, or the full run's.
struct Plan {
  int refire_seconds;
  int quiet_notifications;
  std::vector<int> storms;
  int remote_groups;
  std::vector<int> ceiling_commits;
  std::vector<int> scale_folders;
};

Plan plan(bool quick) {
  if (quick) {
    return {2, 150, {200}, 200, {200}, {1000}};
  }
  return {5, 300, {1000, 10000}, 1000, {1000, 10000}, {1000, 10000}};
}

std::string load_average() {
  auto s = read_file("/proc/loadavg");
  auto parts = s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
  return parts;  // the 1, 5 and 15 minute averages
}

// Every phase in turn, each target's figures into `runs` (one object per
// target), the shared ones into `results`.
void run_phases(Options& opt, const Plan& p, const std::vector<Target>& targets, const json& sample,
                const fs::path& work, std::vector<json>& runs, json& results) {
  auto only = opt["only"];
  auto wanted = [&](const char* phase) { return only.empty() || only == phase; };
  if (wanted("refire")) {
    auto rows =
        refire(targets,
               {.bare_server = opt["bare-server"], .lua = opt["lua"], .seconds = p.refire_seconds},
               sample, work);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      runs[k]["refire"] = rows[k];
    }
  }
  if (wanted("quiet")) {
    auto rows = quiet(targets, sample, work, p.quiet_notifications);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      runs[k]["quiet"] = rows[k];
    }
  }
  int row = 0;
  if (wanted("storm") || wanted("ceiling") || wanted("scale")) {
    for (int n : p.storms) {
      for (auto k : in_turn(targets.size(), row++)) {
        runs[k]["storm"].push_back(storm(targets[k], sample, work, n, 16));
      }
    }
  }
  if (wanted("remote")) {
    for (int daemons : {1, 2}) {
      for (auto k : in_turn(targets.size(), row++)) {
        runs[k]["remote"].push_back(
            remote_storm(targets[k], sample, work, p.remote_groups, daemons));
      }
    }
  }
  // The files the working tree's daemon wrote for the first storm group.
  auto sample_repo = work /
                     ("storm-" + std::to_string(p.storms.front()) + "-" + targets.back().label) /
                     "callouts";
  auto show = [&](const char* file) {
    return run("git -C '" + sample_repo.string() + "' show HEAD:bench/storm-0-2026-11-22/" + file +
               " 2>/dev/null");
  };
  auto callout = show("callout.md");
  if (wanted("ceiling")) {
    results["ceiling"] = ceiling(work, p.ceiling_commits, callout, show("postmortem.md"));
  }
  if (wanted("scale")) {
    std::cout << "\n== Scale with the repository (cold start, /metrics scrape) ==\n";
    for (int folders : p.scale_folders) {
      auto rows = scale(targets, work, folders, callout.empty() ? "# x\n" : callout, row++);
      for (std::size_t k = 0; k < targets.size(); ++k) {
        runs[k]["scale"].push_back(rows[k]);
      }
    }
  }
  if (!runs.back()["storm"].empty()) {
    std::cout << "\n== Repository size per 1,000 callouts (after each storm) ==\n";
  }
  for (const auto& r : runs) {
    for (const auto& s : r["storm"]) {
      const auto& per = s["repository"]["per_1000_callouts"];
      std::printf("%6d groups (%s): .git %.1f MiB, %.0f loose objects, %.1f MiB in packs\n",
                  s["groups"].get<int>(), r["label"].get<std::string>().c_str(),
                  per["git_bytes"].get<double>() / k_mib, per["loose_objects"].get<double>(),
                  per["pack_bytes"].get<double>() / k_mib);
    }
  }
}

bool has_options(const Options& opt, std::initializer_list<const char*> names) {
  return std::all_of(names.begin(), names.end(), [&](const char* n) { return opt.contains(n); });
}

// The targets: the old daemon first when comparing, then the new one.
std::vector<Target> targets_of(Options& opt) {
  std::vector<Target> targets;
  if (opt.contains("compare-calloutd")) {
    targets.push_back(
        {opt.contains("compare-label") ? opt["compare-label"] : "old", opt["compare-calloutd"]});
  }
  targets.push_back({opt.contains("label") ? opt["label"] : "calloutd", opt["calloutd"]});
  if (targets.size() == 2 && targets[0].label == targets[1].label) {
    targets[1].label += "-new";  // two columns, two names
  }
  return targets;
}

// Removing a run's folder (tens of thousands of small files) takes minutes
// on a disk mounted with `discard`: done in the background once the table is
// out, and here, before anything is measured, for any earlier run's folder
// still there (not one of a run still going: two soaks may run side by side).
void remove_earlier_runs() {
  const std::string prefix = "calloutd-bench-";
  std::vector<fs::path> left;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path())) {
    auto name = e.path().filename().string();
    if (!name.starts_with(prefix)) {
      continue;
    }
    auto pid = static_cast<pid_t>(std::atol(name.c_str() + prefix.size()));
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) {
      continue;  // that run is still going
    }
    left.push_back(e.path());
  }
  if (left.empty()) {
    return;
  }
  std::printf("removing %zu folder(s) of earlier runs first...", left.size());
  auto start = Clock::now();
  for (const auto& p : left) {
    std::error_code ec;  // another run's background removal may be at it too
    fs::remove_all(p, ec);
  }
  std::printf(" %.0f s\n", seconds_since(start));
}

void remove_in_background(const fs::path& work) {
  run("nice -n 19 rm -rf '" + work.string() + "' </dev/null >/dev/null 2>&1 &");
}

int bench_main(Options& opt, bool quick) {
  remove_earlier_runs();
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
    remove_in_background(work);
    return rc;
  }
  auto targets = targets_of(opt);
  auto sizes = plan(quick);
  if (opt.contains("groups")) {  // the storms' sizes, for a profile of one: "1000" or "1000,10000"
    sizes.storms.clear();
    std::istringstream list(opt["groups"]);
    for (std::string n; std::getline(list, n, ',');) {
      sizes.storms.push_back(std::stoi(n));
    }
  }
  std::vector<json> runs;
  for (const auto& t : targets) {
    runs.push_back({{"label", t.label},
                    {"calloutd", t.calloutd},
                    {"storm", json::array()},
                    {"remote", json::array()},
                    {"scale", json::array()}});
  }
  json results;
  results["machine"] = {{"cpus", std::thread::hardware_concurrency()},
                        {"kernel", run("uname -r").substr(0, run("uname -r").find('\n'))},
                        {"load_average_at_start", load_average()}};
  results["quick"] = quick;
  std::printf("load average (1, 5, 15 min) at the start: %s on %u cpus\n", load_average().c_str(),
              std::thread::hardware_concurrency());
  try {
    run_phases(opt, sizes, targets, sample, work, runs, results);
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    results["error"] = e.what();
    write_file(opt["out"], results.dump(2) + "\n");
    return 1;
  }
  results["machine"]["load_average_at_end"] = load_average();
  // The working tree's figures where they always were; the old daemon's
  // under "compare".
  for (const auto& [key, value] : runs.back().items()) {
    results[key] = value;
  }
  if (runs.size() == 2) {
    results["compare"] = runs.front();
  }
  results["summary"] = print_summary(runs, results.value("ceiling", json::array()));
  results["total_seconds"] = seconds_since(started);
  write_file(opt["out"], results.dump(2) + "\n");
  std::printf(
      "\nload average at the end: %s\nbench done in %.0f s; results in %s; removing %s in the "
      "background\n",
      load_average().c_str(), seconds_since(started), opt["out"].c_str(), work.c_str());
  remove_in_background(work);
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
                 "FILE --out FILE [--quick] [--label NAME] [--compare-calloutd BIN "
                 "--compare-label NAME] [--only PHASE] [--groups N,N]\n"
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
