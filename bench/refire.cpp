#include "refire.hpp"

#include <cstdio>
#include <iostream>
#include <regex>

namespace calloutd::bench {
namespace {

struct WrkResult {
  double requests_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// `quantile` ("50%", "99%") of wrk's latency distribution, in ms.
double wrk_latency_ms(const std::string& out, const std::string& quantile) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("\\s" + quantile + R"(\s+([0-9.]+)(us|ms|s)\b)"))) {
    return 0;
  }
  double value = std::stod(m[1]);
  return m[2] == "us" ? value / 1000 : m[2] == "ms" ? value : value * 1000;
}

// wrk at `connections` for `seconds` against `url`.
WrkResult wrk(const std::string& url, const std::string& lua, const fs::path& body, int connections,
              int seconds) {
  auto out =
      run("BENCH_BODY='" + body.string() + "' wrk --latency -t" +
          std::to_string(std::min(connections, 2)) + " -c" + std::to_string(connections) + " -d" +
          std::to_string(seconds) + "s -s '" + lua + "' " + url + "/api/v1/alertmanager 2>&1");
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    if (out.find("Non-2xx") != std::string::npos) {
      std::cerr << "wrk saw non-2xx answers:\n" << out;
    }
    return {std::stod(m[1]), wrk_latency_ms(out, "50%"), wrk_latency_ms(out, "99%")};
  }
  std::cerr << "wrk failed:\n" << out;
  return {};
}

// A daemon in `dir` with one open incident, whose notification is in
// dir/body.json.
Daemon with_one_incident(const Target& target, const json& sample, const fs::path& dir) {
  fs::create_directories(dir);
  auto d = start_daemon(target.calloutd, dir);
  auto body = storm_body(sample, 0);
  write_file(dir / "body.json", body);
  auto c = d.client();
  c.Post("/api/v1/alertmanager", body, "application/json");
  wait_for(30, [&] {
    auto list = c.Get("/api/v1/incidents");
    return list && json::parse(list->body)["incidents"].size() == 1;
  });
  return d;
}

}  // namespace

std::vector<json> refire(const std::vector<Target>& targets, const RefireOptions& options,
                         const json& sample, const fs::path& work) {
  std::cout << "\n== Re-fire (one open incident's notification, repeated by wrk) ==\n";
  std::vector<Daemon> daemons;
  for (const auto& t : targets) {
    daemons.push_back(with_one_incident(t, sample, work / ("refire-" + t.label)));
  }
  auto port_file = work / "bare.port";
  Child server({options.bare_server}, port_file, work);
  wait_for(10, [&] { return !read_file(port_file).empty(); });
  std::string bare_url = "http://127.0.0.1:" + std::to_string(std::stoi(read_file(port_file)));
  auto body = work / ("refire-" + targets.front().label) / "body.json";

  std::vector<json> rows(targets.size(), json::array());
  std::printf("%6s %-10s %10s %9s %9s %10s %6s\n", "conns", "server", "req/s", "p50 ms", "p99 ms",
              "bare req/s", "ratio");
  int row = 0;
  for (int conns : {1, 8, 32, 64}) {
    std::vector<WrkResult> ours(targets.size());
    for (auto k : in_turn(targets.size(), row++)) {
      ours[k] = wrk(daemons[k].url(), options.lua, body, conns, options.seconds);
    }
    auto bare = wrk(bare_url, options.lua, body, conns, options.seconds);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      double ratio =
          bare.requests_per_second > 0 ? ours[k].requests_per_second / bare.requests_per_second : 0;
      std::printf("%6d %-10s %10.0f %9.2f %9.2f %10.0f %6.2f\n", conns, targets[k].label.c_str(),
                  ours[k].requests_per_second, ours[k].p50_ms, ours[k].p99_ms,
                  bare.requests_per_second, ratio);
      rows[k].push_back({{"connections", conns},
                         {"calloutd_rps", ours[k].requests_per_second},
                         {"calloutd_p50_ms", ours[k].p50_ms},
                         {"calloutd_p99_ms", ours[k].p99_ms},
                         {"bare_rps", bare.requests_per_second},
                         {"bare_p50_ms", bare.p50_ms},
                         {"bare_p99_ms", bare.p99_ms},
                         {"ratio", ratio}});
    }
  }
  // Nothing new came of it: still one callout, one incident.
  for (std::size_t k = 0; k < targets.size(); ++k) {
    auto repo = work / ("refire-" + targets[k].label) / "callouts";
    auto commits = run("git -C '" + repo.string() + "' rev-list --count HEAD");
    std::printf("commits in %s's repository after the re-fires: %s", targets[k].label.c_str(),
                commits.c_str());
  }
  return rows;
}

}  // namespace calloutd::bench
