#include "daemon/git/maintenance.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "daemon/base/keep_running.hpp"
#include "daemon/base/log.hpp"

extern char** environ;

namespace calloutd {
namespace {

namespace fs = std::filesystem;

// The output of git kept for the log: its end, where the error is.
constexpr std::size_t k_output_bytes = 4096;
// How long a round waits for a moment without a commit or push in progress.
constexpr auto k_quiet_wait = std::chrono::seconds(30);
constexpr auto k_quiet_poll = std::chrono::milliseconds(10);

bool is_hex_pair(const std::string& name) {
  return name.size() == 2 && std::isxdigit(static_cast<unsigned char>(name[0])) &&
         std::isxdigit(static_cast<unsigned char>(name[1]));
}

// `git` as found on PATH (resolved before fork: the child only calls execve).
std::optional<std::string> find_git() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = (fs::path(dir.empty() ? "." : dir) / "git").string();
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

// In the forked child (only async-signal-safe calls): its own process group
// (so that stop() kills git's own children too), killed when the thread that
// forked it ends (PR_SET_PDEATHSIG follows the thread, and that thread waits
// for the child: it ends before the child only when the daemon dies), default signals, output to
// the pipe, no descriptor of the daemon's (a listening socket kept open by an orphaned git would
// stop the restarted daemon from binding).
[[noreturn]] void exec_child(const char* git, char* const* argv, int output_fd, pid_t parent) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    ::_exit(127);  // the daemon died before prctl
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  int devnull = ::open("/dev/null", O_RDONLY);
  ::dup2(devnull, 0);
  ::dup2(output_fd, 1);
  ::dup2(output_fd, 2);
  if (::close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 65536; ++fd) {
      ::close(fd);
    }
  }
  ::execve(git, argv, environ);
  ::_exit(127);
}

// Reads `fd` to its end, keeping the last k_output_bytes.
std::string read_all(int fd) {
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return out;
    }
    out.append(buf.data(), static_cast<std::size_t>(n));
    if (out.size() > 2 * k_output_bytes) {
      out.erase(0, out.size() - k_output_bytes);
    }
  }
}

std::string tail(std::string text) {
  if (text.size() > k_output_bytes) {
    text.erase(0, text.size() - k_output_bytes);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

ObjectStore measure_objects(const fs::path& objects_dir) {
  ObjectStore store;
  std::error_code ec;
  // gc moves files while this walks: a file gone meanwhile is skipped.
  for (fs::recursive_directory_iterator it(objects_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) {
      continue;
    }
    auto size = it->file_size(ec);
    store.size_bytes += ec ? 0 : size;
    auto parent = it->path().parent_path().filename().string();
    if (it.depth() == 1 && is_hex_pair(parent)) {
      ++store.loose_objects;
    } else if (parent == "pack" && it->path().extension() == ".pack") {
      ++store.packs;
    }
    ec.clear();
  }
  return store;
}

const char* gc_outcome_name(GcOutcome outcome) {
  switch (outcome) {
    case GcOutcome::packed:
      return "packed";
    case GcOutcome::not_needed:
      return "not_needed";
    case GcOutcome::failed:
      break;
  }
  return "failed";
}

Maintenance::Maintenance(const MaintenanceConfig& config, std::string repo_path,
                         std::shared_mutex& writing, Reporter report)
    : m_config(config),
      m_repo_path(std::move(repo_path)),
      m_git_dir(fs::path(m_repo_path) / ".git"),
      m_writing(writing),
      m_report(std::move(report)) {
  if (!fs::is_directory(m_git_dir)) {
    m_git_dir = m_repo_path;  // a bare repository
  }
}

Maintenance::~Maintenance() {
  stop();
}

void Maintenance::start() {
  m_thread = std::thread([this] { keep_running("maintenance", [this] { run(); }); });
}

void Maintenance::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    if (m_child > 0) {
      ::kill(-m_child, SIGKILL);  // git gc and the repack it runs
    }
  }
  m_wake.notify_one();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

void Maintenance::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    lock.unlock();
    round();
    lock.lock();
    m_wake.wait_for(lock, m_config.interval, [this] { return m_stopping; });
  }
}

void Maintenance::round() {
  MaintenanceReport report;
  auto gc_log = m_git_dir / "gc.log";
  std::error_code ec;
  report.gc_log = fs::file_size(gc_log, ec) > 0 && !ec;
  report_gc_log(report.gc_log);
  if (m_config.gc_auto > 0) {
    auto started = std::chrono::steady_clock::now();
    auto run = run_gc();
    report.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (run) {
      report.outcome = run->outcome;
      if (run->outcome == GcOutcome::failed) {
        log::error("git gc failed; retried after the interval",
                   {{"interval", std::to_string(m_config.interval.count()) + "s"},
                    {"output", run->output}});
      } else if (run->outcome == GcOutcome::packed) {
        log::info("packed the repository (git gc)",
                  {{"seconds", std::to_string(report.duration_seconds)}, {"output", run->output}});
      }
    }
  }
  report.store = measure_objects(m_git_dir / "objects");
  m_report(report);
}

void Maintenance::report_gc_log(bool present) {
  if (!present) {
    m_gc_log_seen = {};
    return;
  }
  std::error_code ec;
  auto path = m_git_dir / "gc.log";
  auto written = fs::last_write_time(path, ec);
  if (ec || written == m_gc_log_seen) {
    return;  // logged once per gc.log
  }
  m_gc_log_seen = written;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A detached `git gc --auto` (an engineer's commit) failed. It stops
  // git's automatic gc for a day; the daemon's gc runs in the foreground,
  // which does not read gc.log, and git removes the file when that run packs.
  log::warn(
      "a failed git gc left gc.log, which stops engineers' automatic gc for a day; calloutd's "
      "maintenance goes on and removes it when it packs (docs/maintenance.md)",
      {{"path", path.string()}, {"content", tail(text)}});
}

std::optional<Maintenance::GcRun> Maintenance::run_gc() {
  auto git = find_git();
  if (!git) {
    return GcRun{GcOutcome::failed, "git not found on PATH"};
  }
  // Foreground (autoDetach=false): the child is ours to wait for and to end.
  std::vector<std::string> argv{*git,
                                "-C",
                                m_repo_path,
                                "-c",
                                "gc.autoDetach=false",
                                "-c",
                                "gc.auto=" + std::to_string(m_config.gc_auto),
                                "gc",
                                "--auto"};
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return GcRun{GcOutcome::failed, std::string("cannot make a pipe: ") + std::strerror(errno)};
  }
  pid_t pid = spawn_between_writes(argv, pipe_fds[1]);
  int spawn_errno = errno;
  ::close(pipe_fds[1]);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    if (spawn_errno == 0) {
      return std::nullopt;  // stopped, or no quiet moment
    }
    return GcRun{GcOutcome::failed, std::string("cannot start git: ") + std::strerror(spawn_errno)};
  }
  std::string output = read_all(pipe_fds[0]);
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool stopped = false;
  {
    std::lock_guard lock(m_mutex);
    m_child = -1;
    stopped = m_stopping;
  }
  if (stopped) {
    return std::nullopt;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return GcRun{GcOutcome::failed, tail(output)};
  }
  bool packed = output.find("Auto packing the repository") != std::string::npos;
  return GcRun{packed ? GcOutcome::packed : GcOutcome::not_needed, tail(output)};
}

pid_t Maintenance::spawn_between_writes(const std::vector<std::string>& argv, int output_fd) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  // Only between the daemon's commits and pushes: they hold `writing`
  // shared for their length. try_lock, never lock: a waiting exclusive
  // locker must not hold up the engine's strand behind it.
  std::unique_lock writes(m_writing, std::defer_lock);
  auto give_up = std::chrono::steady_clock::now() + k_quiet_wait;
  while (!writes.try_lock()) {
    std::unique_lock lock(m_mutex);
    if (m_wake.wait_for(lock, k_quiet_poll, [this] { return m_stopping; }) ||
        std::chrono::steady_clock::now() > give_up) {
      errno = 0;
      return -1;
    }
  }
  std::lock_guard lock(m_mutex);
  if (m_stopping) {
    errno = 0;
    return -1;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(args[0], args.data(), output_fd, parent);
  }
  if (pid > 0) {
    ::setpgid(pid, pid);  // also here: stop() may kill the group before the child ran
    m_child = pid;
  }
  return pid;
}

}  // namespace calloutd
