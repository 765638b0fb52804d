#include "tests/support/test_support.hpp"

#include <cstdlib>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace calloutd::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  m_path = fs::temp_directory_path() /
           ("calloutd-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(m_path);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string sample(const std::string& name) {
  auto text = read_file(fs::path(CALLOUTD_SAMPLES_DIR) / "alertmanager" / name);
  if (text.empty()) {
    throw std::runtime_error("missing sample " + name);
  }
  return text;
}

std::string pagerduty_sample(const std::string& name) {
  auto text = read_file(fs::path(CALLOUTD_SAMPLES_DIR) / "pagerduty" / name);
  if (text.empty()) {
    throw std::runtime_error("missing sample " + name);
  }
  return text;
}

std::string run(const std::string& command, int* status) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    throw std::runtime_error("cannot run " + command);
  }
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    out.append(buf.data(), n);
  }
  int st = ::pclose(p);
  if (status != nullptr) {
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  return out;
}

Process::Process(std::vector<std::string> argv, const std::string& log_path, const fs::path& cwd) {
  m_pid = ::fork();
  if (m_pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (m_pid == 0) {
    // Unblock signals the test runner may have blocked, so SIGTERM works.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      ::_exit(126);
    }
    std::vector<char*> args;
    for (auto& a : argv) {
      args.push_back(a.data());
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    kill(SIGTERM);
    if (wait(5) < 0) {
      kill(SIGKILL);
      wait(5);
    }
  }
}

void Process::kill(int signal) {
  if (m_pid > 0) {
    ::kill(m_pid, signal);
  }
}

bool Process::running() {
  if (m_pid <= 0 || m_status >= 0) {
    return false;
  }
  int st = 0;
  pid_t r = ::waitpid(m_pid, &st, WNOHANG);
  if (r == m_pid) {
    m_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int Process::wait(double seconds) {
  eventually(seconds, [&] { return !running(); });
  return m_status;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool eventually(double seconds, const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

TimePoint at(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) {
    throw std::invalid_argument("not an RFC 3339 time: " + rfc3339);
  }
  return *t;
}

double metric(const std::string& exposition, const std::string& series) {
  auto at = exposition.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(exposition.substr(at + series.size() + 2));
}

std::uint64_t last_journaled(const std::filesystem::path& journal_dir) {
  std::istringstream lines(read_file(journal_dir / "journal.jsonl"));
  std::string line;
  std::uint64_t last = 0;
  while (std::getline(lines, line)) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_object() && record.contains("seq") && record["seq"].is_number_unsigned()) {
      last = std::max(last, record["seq"].get<std::uint64_t>());
    }
  }
  return last;
}

std::uint64_t applied_mark(const std::filesystem::path& journal_dir) {
  std::uint64_t mark = 0;
  std::istringstream(read_file(journal_dir / "applied")) >> mark;
  return mark;
}

bool all_applied(const std::filesystem::path& journal_dir, double seconds) {
  return eventually(seconds,
                    [&] { return applied_mark(journal_dir) >= last_journaled(journal_dir); });
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

// CALLOUTD_TEST_BINARY runs the tests against another build of the daemon
// (main's, to see a new test fail there first).
std::string calloutd_binary() {
  const char* other = std::getenv("CALLOUTD_TEST_BINARY");
  return other != nullptr && *other != '\0' ? other : CALLOUTD_BINARY;
}

std::string calloutctl_binary() {
  return CALLOUTCTL_BINARY;
}

std::string lint_repository(const std::filesystem::path& repo, int* status) {
  TempDir copy;
  return run("git clone -q --branch main '" + repo.string() + "' '" + copy.str() + "/c' && " +
                 calloutctl_binary() + " lint --repo '" + copy.str() + "/c' 2>&1",
             status);
}

}  // namespace calloutd::testing
