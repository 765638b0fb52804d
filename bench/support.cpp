#include "support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace calloutd::bench {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

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

std::vector<std::size_t> in_turn(std::size_t targets, int row) {
  std::vector<std::size_t> order(targets);
  for (std::size_t k = 0; k < targets; ++k) {
    order[k] = row % 2 == 0 ? k : targets - 1 - k;
  }
  return order;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  char buf[4096];
  std::size_t n = 0;
  while (p != nullptr && (n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    out.append(buf, n);
  }
  if (p != nullptr) {
    ::pclose(p);
  }
  return out;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool wait_for(double seconds, const std::function<bool()>& ok) {
  auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (ok()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Child::Child(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  int rc = posix_spawn(&m_pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + argv[0]);
  }
}

void Child::stop() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGTERM);
    int st = 0;
    ::waitpid(m_pid, &st, 0);
    m_pid = -1;
  }
}

double Child::memory_mib(const char* field) const {
  std::ifstream in("/proc/" + std::to_string(m_pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) {
      return std::stod(line.substr(std::strlen(field) + 1)) / 1024.0;
    }
  }
  return 0;
}

httplib::Client Daemon::client() const {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120);
  c.set_tcp_nodelay(true);
  return c;
}

namespace {

const std::string k_config = R"(web:
  max_pending_events: 100000
routes:
  - matchers: ['severity="critical"']
    severity: MPI
    technology: bench
repository:
  path: callouts
  poll_interval: 2s
)";

std::string config_text(const DaemonOptions& options) {
  std::string text = k_config;
  if (!options.remote.empty()) {
    text += "  remote:\n    url: " + options.remote +
            "\n    fetch_interval: 1s\n    max_retry_delay: 1s\n";
  }
  if (!options.repository_extra.empty()) {
    text += "  " + options.repository_extra + "\n";
  }
  return text;
}

}  // namespace

Daemon start_daemon(const std::string& binary, const fs::path& dir, double* ready_after,
                    const DaemonOptions& options) {
  write_file(dir / "calloutd.yml", config_text(options));
  Daemon d;
  d.port = free_port();
  auto start = Clock::now();
  d.child = std::make_unique<Child>(
      std::vector<std::string>{binary, "--config.file=calloutd.yml",
                               "--web.listen-address=127.0.0.1:" + std::to_string(d.port),
                               "--log.level=warn"},
      dir / "calloutd.log", dir);
  bool up = wait_for(600, [&] {
    auto c = d.client();
    c.set_connection_timeout(0, 200000);
    auto r = c.Get("/-/ready");
    return r && r->status == 200;
  });
  if (!up) {
    throw std::runtime_error("calloutd did not become ready; see " +
                             (dir / "calloutd.log").string());
  }
  if (ready_after != nullptr) {
    *ready_after = seconds_since(start);
  }
  return d;
}

std::string storm_body(const json& sample, int i, bool firing) {
  json j = sample;
  std::string name = "storm-" + std::to_string(i);
  const char* status = firing ? "firing" : "resolved";
  j["groupKey"] = "{}:{alertname=\"" + name + "\"}";
  j["groupLabels"] = {{"alertname", name}};
  j["commonLabels"]["alertname"] = name;
  j["commonLabels"]["severity"] = "critical";
  json alert = j["alerts"][0];
  alert["labels"]["alertname"] = name;
  alert["labels"]["severity"] = "critical";
  alert["status"] = status;
  if (!firing) {
    alert["endsAt"] = "2026-11-22T04:45:52.038Z";
  }
  char fp[17];
  std::snprintf(fp, sizeof fp, "%016x", i + 1);
  alert["fingerprint"] = fp;
  j["alerts"] = json::array({alert});
  j["status"] = status;
  return j.dump();
}

namespace {

bool is_object_folder(const std::string& name) {
  return name.size() == 2 && std::isxdigit(static_cast<unsigned char>(name[0])) &&
         std::isxdigit(static_cast<unsigned char>(name[1]));
}

// Allocated bytes of the file `p` (as `du`), 0 if it is gone.
std::uintmax_t disk_use(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? static_cast<std::uintmax_t>(st.st_blocks) * 512 : 0;
}

// Adds up `dir` recursively into `total`; `on_file` sees every file.
void walk(const fs::path& dir, const std::function<void(const fs::path&, std::uintmax_t)>& on_file,
          std::uintmax_t& total) {
  std::error_code ec;
  total += disk_use(dir);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && !it->is_symlink(type_ec)) {
      walk(it->path(), on_file, total);
    } else {
      auto bytes = disk_use(it->path());
      total += bytes;
      on_file(it->path(), bytes);
    }
  }
}

}  // namespace

RepositorySize repository_size(const fs::path& worktree) {
  RepositorySize s;
  walk(
      worktree / ".git",
      [&s](const fs::path& file, std::uintmax_t bytes) {
        auto folder = file.parent_path().filename().string();
        auto above = file.parent_path().parent_path().filename().string();
        if (above == "objects" && is_object_folder(folder)) {
          ++s.loose_objects;
          s.loose_bytes += bytes;
        } else if (above == "objects" && folder == "pack") {
          s.packs += file.extension() == ".pack" ? 1 : 0;
          s.pack_bytes += bytes;
        }
      },
      s.git_bytes);
  return s;
}

double mib(std::uintmax_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

json to_json(const RepositorySize& s, std::uintmax_t callouts) {
  json j{{"git_bytes", s.git_bytes},     {"loose_objects", s.loose_objects},
         {"loose_bytes", s.loose_bytes}, {"packs", s.packs},
         {"pack_bytes", s.pack_bytes},   {"callouts", callouts}};
  if (callouts > 0) {
    double per = 1000.0 / static_cast<double>(callouts);
    j["per_1000_callouts"] = {{"git_bytes", static_cast<double>(s.git_bytes) * per},
                              {"loose_objects", static_cast<double>(s.loose_objects) * per},
                              {"loose_bytes", static_cast<double>(s.loose_bytes) * per},
                              {"pack_bytes", static_cast<double>(s.pack_bytes) * per}};
  }
  return j;
}

std::uintmax_t callout_folders(const fs::path& worktree) {
  auto out =
      run("git -C '" + worktree.string() + "' ls-tree -d --name-only HEAD bench/ 2>/dev/null");
  return static_cast<std::uintmax_t>(std::count(out.begin(), out.end(), '\n'));
}

}  // namespace calloutd::bench
