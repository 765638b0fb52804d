// Helpers shared by the tests: temporary directories, sample files, running
// programs, and finding the binaries the build made.
#pragma once

#include <cstdint>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/base/timefmt.hpp"

namespace calloutd::testing {

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::string str() const { return m_path.string(); }

 private:
  std::filesystem::path m_path;
};

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);

// A webhook body from ../shared/samples/alertmanager (path set by CMake).
std::string sample(const std::string& name);
// A webhook body from the PagerDuty samples.
std::string pagerduty_sample(const std::string& name);

// Runs a shell command, returning its stdout; `status` gets the exit status.
std::string run(const std::string& command, int* status = nullptr);

// A child process (argv[0] searched in PATH), its output appended to `log`.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& log_path,
          const std::filesystem::path& cwd = {});
  ~Process();  // SIGTERM, then SIGKILL after 5 s
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  int pid() const { return m_pid; }
  void kill(int signal);
  // Waits up to `seconds` for the process to exit; returns its exit status or -1.
  int wait(double seconds);
  bool running();

 private:
  int m_pid = -1;
  int m_status = -1;
};

// A TCP port free on 127.0.0.1 right now (bind to port 0, read it back).
int free_port();

// Polls `condition` every 20 ms until it holds or `seconds` pass.
bool eventually(double seconds, const std::function<bool()>& condition);

// An RFC 3339 time written in a test ("2026-11-22T03:50:00Z"); throws on a
// typo rather than yielding the epoch.
TimePoint at(const std::string& rfc3339);

// The value of one series in a Prometheus exposition, e.g.
// `calloutd_http_connections_open` or `x_total{reason="a"}` (0 when absent).
double metric(const std::string& exposition, const std::string& series);

// How many times `what` occurs in `text`.
std::size_t occurrences(const std::string& text, const std::string& what);

// The daemon's journal in `journal_dir` (default `<repo>/.git/calloutd`):
// the sequence of its last record (0 when empty), and its applied mark.
std::uint64_t last_journaled(const std::filesystem::path& journal_dir);
std::uint64_t applied_mark(const std::filesystem::path& journal_dir);
// Waits up to `seconds` until every journaled event is applied: the positive
// signal to wait for before checking that something did not happen twice.
bool all_applied(const std::filesystem::path& journal_dir, double seconds = 20);

// `calloutctl lint` on a clone of `repo`'s main branch (the daemon's
// working tree is left alone): its output; `status` gets the exit status.
std::string lint_repository(const std::filesystem::path& repo, int* status);

// The calloutd binary built next to the tests.
std::string calloutd_binary();
std::string calloutctl_binary();

}  // namespace calloutd::testing
