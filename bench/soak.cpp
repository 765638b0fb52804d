#include "soak.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace calloutd::bench {
namespace {

// The mixed load of issue #17, per second.
constexpr double k_new_groups_per_second = 5;
constexpr double k_refires_per_second = 50;
constexpr double k_resolutions_per_second = 2.5;  // one every 0.4 s
constexpr double k_scrapes_per_second = 1;
constexpr int k_refire_threads = 4;  // so that one slow answer does not stall the rate
// Re-fires leave the oldest open groups alone: those are the next to be
// resolved, and a re-fire racing its resolution would reopen the incident.
constexpr std::size_t k_left_to_resolve = 10;

// Webhooks and scrapes on their own threads, each at a fixed rate, until
// stop(). Thread-safe counts.
class SoakLoad {
 public:
  SoakLoad(const Daemon& daemon, const json& sample) : m_daemon(daemon), m_sample(sample) {}
  ~SoakLoad() { stop(); }
  SoakLoad(const SoakLoad&) = delete;
  SoakLoad& operator=(const SoakLoad&) = delete;

  void start() {
    spawn(k_new_groups_per_second, [this](httplib::Client& c, std::mt19937&) { open_group(c); });
    for (int t = 0; t < k_refire_threads; ++t) {
      spawn(k_refires_per_second / k_refire_threads,
            [this](httplib::Client& c, std::mt19937& random) { refire(c, random); });
    }
    spawn(k_resolutions_per_second, [this](httplib::Client& c, std::mt19937&) { resolve(c); });
    spawn(k_scrapes_per_second,
          [this](httplib::Client& c, std::mt19937&) { count(c.Get("/metrics"), m_scrapes); });
  }

  void stop() {
    m_stop = true;
    for (auto& t : m_threads) {
      t.join();
    }
    m_threads.clear();
  }

  json counts() const {
    return {{"requests_2xx", m_ok.load()},         {"errors", m_errors.load()},
            {"groups_opened", m_opened.load()},    {"refires", m_refires.load()},
            {"resolutions", m_resolutions.load()}, {"scrapes", m_scrapes.load()}};
  }
  long errors() const { return m_errors.load(); }

 private:
  using Step = std::function<void(httplib::Client&, std::mt19937&)>;

  // A thread that runs `step` `per_second` times a second. When the daemon
  // answers too slowly to keep the rate, it falls behind rather than bursting
  // to catch up by more than a second.
  void spawn(double per_second, Step step) {
    auto seed = static_cast<unsigned>(m_threads.size() + 1);
    m_threads.emplace_back([this, per_second, step = std::move(step), seed] {
      auto period = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(1.0 / per_second));
      auto c = m_daemon.client();
      c.set_keep_alive(true);
      std::mt19937 random(seed);
      auto next = Clock::now();
      while (!m_stop) {
        step(c, random);
        next += period;
        next = std::max(next, Clock::now() - std::chrono::seconds(1));
        std::this_thread::sleep_until(next);
      }
    });
  }

  bool count(const httplib::Result& r, std::atomic<long>& kind) {
    if (r && r->status / 100 == 2) {
      ++m_ok;
      ++kind;
      return true;
    }
    if (m_errors++ == 0) {
      std::cerr << "soak: first failed request: "
                << (r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error()))
                << "\n";
    }
    return false;
  }

  bool post(httplib::Client& c, int group, bool firing, std::atomic<long>& kind) {
    return count(
        c.Post("/api/v1/alertmanager", storm_body(m_sample, group, firing), "application/json"),
        kind);
  }

  void open_group(httplib::Client& c) {
    int group = m_next_group++;
    if (post(c, group, true, m_opened)) {
      std::lock_guard lock(m_mutex);
      m_open.push_back(group);
    }
  }

  void refire(httplib::Client& c, std::mt19937& random) {
    int group = -1;
    {
      std::lock_guard lock(m_mutex);
      std::size_t first = std::min(k_left_to_resolve, m_open.size() / 2);
      if (first < m_open.size()) {
        std::uniform_int_distribution<std::size_t> pick(first, m_open.size() - 1);
        group = m_open[pick(random)];
      }
    }
    if (group >= 0) {
      post(c, group, true, m_refires);
    }
  }

  void resolve(httplib::Client& c) {
    int group = -1;
    {
      std::lock_guard lock(m_mutex);
      if (!m_open.empty()) {
        group = m_open.front();
        m_open.pop_front();
      }
    }
    if (group >= 0) {
      post(c, group, false, m_resolutions);
    }
  }

  const Daemon& m_daemon;
  const json& m_sample;
  std::vector<std::thread> m_threads;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_next_group{0};
  std::mutex m_mutex;
  std::deque<int> m_open;  // groups opened and not resolved, oldest first
  std::atomic<long> m_ok{0}, m_errors{0};
  std::atomic<long> m_opened{0}, m_refires{0}, m_resolutions{0}, m_scrapes{0};
};

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// One row of the soak's table: the clone, the daemon's memory, the load.
json measure(double minute, double elapsed, const Daemon& d, const fs::path& repo,
             const SoakLoad& load) {
  auto callouts = callout_folders(repo);
  json row = load.counts();
  row["minute"] = minute;
  row["elapsed_s"] = elapsed;
  row["callouts"] = callouts;
  auto list = d.client().Get("/api/v1/incidents");
  row["open_incidents"] = list ? json::parse(list->body)["incidents"].size() : 0;
  row["repository"] = to_json(repository_size(repo), callouts);
  row["rss_mib"] = d.child->memory_mib("VmRSS:");
  return row;
}

void print_header() {
  std::printf("%6s %8s %6s %8s %9s %11s %8s %9s %6s %8s %8s %8s %7s\n", "minute", "opened", "open",
              "callouts", ".git MiB", "MiB per 1k", "loose", "loose MiB", "packs", "RSS MiB",
              "RSS/min", "2xx", "errors");
}

void print_row(const json& row) {
  const auto& r = row["repository"];
  double per_1k = r.contains("per_1000_callouts")
                      ? r["per_1000_callouts"]["git_bytes"].get<double>() / (1024.0 * 1024.0)
                      : 0;
  std::printf("%6.1f %8ld %6zu %8ju %9.1f %11.1f %8ju %9.1f %6ju %8.1f %+8.1f %8ld %7ld\n",
              row["minute"].get<double>(), row["groups_opened"].get<long>(),
              row["open_incidents"].get<std::size_t>(), row["callouts"].get<std::uintmax_t>(),
              mib(r["git_bytes"].get<std::uintmax_t>()), per_1k,
              r["loose_objects"].get<std::uintmax_t>(), mib(r["loose_bytes"].get<std::uintmax_t>()),
              r["packs"].get<std::uintmax_t>(), row["rss_mib"].get<double>(),
              row.value("rss_growth_mib_per_minute", 0.0), row["requests_2xx"].get<long>(),
              row["errors"].get<long>());
}

json soak_header(const SoakOptions& options) {
  return {{"started_at", utc_now()},
          {"calloutd", options.calloutd},
          {"minutes", options.minutes},
          {"repository_extra", options.repository_extra},
          {"machine_cpus", std::thread::hardware_concurrency()},
          {"load_per_second",
           {{"new_groups", k_new_groups_per_second},
            {"refires", k_refires_per_second},
            {"resolutions", k_resolutions_per_second},
            {"scrapes", k_scrapes_per_second}}},
          {"rows", json::array()}};
}

}  // namespace

int run_soak(const SoakOptions& options, const json& sample, const fs::path& work) {
  auto dir = work / "soak";
  fs::create_directories(dir);
  auto d = start_daemon(options.calloutd, dir, nullptr,
                        {.remote = "", .repository_extra = options.repository_extra});
  auto repo = dir / "callouts";
  std::cout << "== Soak: " << options.minutes << " minutes of mixed load on " << d.url()
            << " (5 new groups/s, 50 re-fires/s, a resolution every 0.4 s, a scrape/s) ==\n";
  json results{{"soak", soak_header(options)}};
  auto& rows = results["soak"]["rows"];
  SoakLoad load(d, sample);
  print_header();
  rows.push_back(measure(0, 0, d, repo, load));
  print_row(rows.back());
  auto start = Clock::now();
  load.start();
  double total = options.minutes * 60;
  for (int minute = 1; minute <= static_cast<int>(std::ceil(options.minutes)); ++minute) {
    double at = std::min(minute * 60.0, total);
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at)));
    rows.push_back(measure(at / 60, seconds_since(start), d, repo, load));
    const auto& before = rows[rows.size() - 2];
    rows.back()["rss_growth_mib_per_minute"] =
        (rows.back()["rss_mib"].get<double>() - before["rss_mib"].get<double>()) /
        std::max(rows.back()["minute"].get<double>() - before["minute"].get<double>(), 1e-9);
    print_row(rows.back());
    write_file(options.out, results.dump(2) + "\n");
  }
  load.stop();
  results["soak"]["finished_at"] = utc_now();
  write_file(options.out, results.dump(2) + "\n");
  std::printf("soak done; results in %s\n", options.out.c_str());
  return load.errors() == 0 ? 0 : 1;
}

}  // namespace calloutd::bench
