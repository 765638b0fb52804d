// What the benchmark's phases share: child processes, a calloutd started on
// loopback with a port picked at run time, the storm's webhook bodies, and
// the size of a repository on disk.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace calloutd::bench {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t);
// The `q` quantile (0..1) of `v` by nearest rank; 0 when `v` is empty.
double percentile(std::vector<double> v, double q);
// histogram_quantile over the cumulative buckets of the histogram `name` in
// a Prometheus exposition (linear within a bucket, as Prometheus does).
double histogram_quantile(const std::string& exposition, const std::string& name, double q);
std::string read_file(const fs::path& p);
void write_file(const fs::path& p, const std::string& s);
// Runs `command` with the shell; its standard output.
std::string run(const std::string& command);
// A port nobody listens on now (bound to 0, read back, closed).
int free_port();
// Calls `ok` every 20 ms until it returns true (then true) or `seconds` pass.
bool wait_for(double seconds, const std::function<bool()>& ok);

// A child process; stdout and stderr to `log`. Stopped (SIGTERM, waited
// for) when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd);
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return m_pid; }
  void stop();
  // `field` ("VmRSS:", "VmHWM:") of /proc/<pid>/status in MiB.
  double memory_mib(const char* field) const;

 private:
  pid_t m_pid = -1;
};

struct Daemon {
  std::unique_ptr<Child> child;
  int port = 0;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  httplib::Client client() const;
};

// What start_daemon adds to the bench's config.
struct DaemonOptions {
  std::string remote;            // a repository.remote url, or "" for none
  std::string repository_extra;  // a YAML line added under `repository:`, or ""
};

// Starts calloutd in `dir` (its repository in dir/callouts) on a free port
// of 127.0.0.1; waits until ready. `ready_after`: seconds until it was.
Daemon start_daemon(const std::string& binary, const fs::path& dir, double* ready_after = nullptr,
                    const DaemonOptions& options = {});

// One alert group of the storm: distinct group, alert name and fingerprint
// for each `i`; firing, or resolved (`firing` false).
std::string storm_body(const json& sample, int i, bool firing = true);

// A daemon under test: its binary and the label its figures carry (a
// revision; the working tree's build with "+" when it has changes).
struct Target {
  std::string label;
  std::string calloutd;
};

// The order the targets take their turn in row `row` of a phase: 0, 1, ...
// in even rows and the reverse in odd ones, so that a steady drift of the
// machine's load does not favour one of them.
std::vector<std::size_t> in_turn(std::size_t targets, int row);

// How much room a clone's .git takes, as `du` counts it (allocated blocks).
struct RepositorySize {
  std::uintmax_t git_bytes = 0;  // all of .git
  std::uintmax_t loose_objects = 0;
  std::uintmax_t loose_bytes = 0;
  std::uintmax_t packs = 0;
  std::uintmax_t pack_bytes = 0;  // .pack, .idx and the rest of objects/pack
};

// Measured while git may be adding or removing files (a gc): a file that
// vanishes is skipped.
RepositorySize repository_size(const fs::path& worktree);
// The sizes, and each per 1,000 `callouts` (omitted when there are none).
json to_json(const RepositorySize& s, std::uintmax_t callouts);
double mib(std::uintmax_t bytes);
// Callout folders in HEAD of the clone `worktree` (bench/<folder>).
std::uintmax_t callout_folders(const fs::path& worktree);

}  // namespace calloutd::bench
