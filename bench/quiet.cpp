#include "quiet.hpp"

#include <git2.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <stdexcept>

namespace calloutd::bench {
namespace {

constexpr double k_commit_timeout_s = 10;

// A daemon, and what tells when its branch moves: an inotify watch on
// .git/refs/heads (libgit2 writes a ref to <name>.lock, then links a new one
// into place or renames over an old one) and the repository, to read which
// commit the branch is at.
class Watched {
 public:
  Watched(const Target& target, const fs::path& dir)
      : m_label(target.label), m_daemon(start_daemon(target.calloutd, dir)) {
    auto git_dir = dir / "callouts" / ".git";
    m_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m_fd < 0 ||
        ::inotify_add_watch(m_fd, (git_dir / "refs" / "heads").c_str(), IN_CREATE | IN_MOVED_TO) <
            0 ||
        git_repository_open(&m_repo, git_dir.c_str()) != 0) {
      throw std::runtime_error("cannot watch " + git_dir.string());
    }
    m_client = std::make_unique<httplib::Client>(m_daemon.client());
    m_client->set_keep_alive(true);
  }
  ~Watched() {
    git_repository_free(m_repo);
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;

  // Posts `body` (group `group`) and waits for the commit that records it.
  // Adds to m_to_2xx and m_to_commit; counts a miss when it does not come.
  void one(const std::string& body, int group) {
    drain();
    auto t0 = Clock::now();
    auto r = m_client->Post("/api/v1/alertmanager", body, "application/json");
    m_to_2xx.push_back(seconds_since(t0));
    if (!r || r->status != 200) {
      ++m_failed;
      return;
    }
    auto needle = "/storm-" + std::to_string(group) + "-";
    while (seconds_since(t0) < k_commit_timeout_s) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0 && drain() && recorded(needle)) {
        m_to_commit.push_back(seconds_since(t0));
        return;
      }
    }
    ++m_missed;
    std::cerr << m_label << ": no commit of group " << group << " seen within "
              << k_commit_timeout_s << " s\n";
  }

  json report(int n) const {
    std::size_t fast = 0;
    for (double s : m_to_commit) {
      fast += s <= 0.010 ? 1 : 0;
    }
    auto metrics = m_daemon.client().Get("/metrics");
    std::string exposition = metrics ? metrics->body : "";
    const char* h = "calloutd_webhook_to_commit_seconds";
    json row{{"notifications", n},
             {"failed_requests", m_failed},
             {"commits_not_seen", m_missed},
             {"webhook_to_2xx_p50_ms", percentile(m_to_2xx, 0.5) * 1000},
             {"webhook_to_2xx_p99_ms", percentile(m_to_2xx, 0.99) * 1000},
             {"webhook_to_commit_p50_ms", percentile(m_to_commit, 0.5) * 1000},
             {"webhook_to_commit_p99_ms", percentile(m_to_commit, 0.99) * 1000},
             {"webhook_to_commit_max_ms", percentile(m_to_commit, 1) * 1000},
             {"share_within_10ms",
              m_to_commit.empty() ? 0.0 : static_cast<double>(fast) / m_to_commit.size()},
             {"histogram_p50_ms", histogram_quantile(exposition, h, 0.5) * 1000},
             {"histogram_p99_ms", histogram_quantile(exposition, h, 0.99) * 1000},
             {"rss_mib", m_daemon.child->memory_mib("VmRSS:")}};
    std::printf(
        "%-10s webhook->2xx p50/p99 %.2f/%.2f ms; webhook->commit p50/p99 %.1f/%.1f ms, max "
        "%.1f ms, %.0f%% within 10 ms (daemon's histogram p50/p99 %.1f/%.1f ms); %d failed, %d "
        "commits not seen\n",
        m_label.c_str(), row["webhook_to_2xx_p50_ms"].get<double>(),
        row["webhook_to_2xx_p99_ms"].get<double>(), row["webhook_to_commit_p50_ms"].get<double>(),
        row["webhook_to_commit_p99_ms"].get<double>(),
        row["webhook_to_commit_max_ms"].get<double>(), row["share_within_10ms"].get<double>() * 100,
        row["histogram_p50_ms"].get<double>(), row["histogram_p99_ms"].get<double>(), m_failed,
        m_missed);
    return row;
  }

 private:
  // Reads every pending event; true when a ref (not a lock file) was
  // created or replaced.
  bool drain() {
    alignas(inotify_event) char buf[4096];
    bool moved = false;
    for (ssize_t n; (n = ::read(m_fd, buf, sizeof buf)) > 0;) {
      for (char* at = buf; at < buf + n;) {
        auto* e = reinterpret_cast<inotify_event*>(at);
        std::string name = e->len > 0 ? e->name : "";
        moved = moved || !name.ends_with(".lock");
        at += sizeof(inotify_event) + e->len;
      }
    }
    return moved;
  }

  // Whether HEAD or one of its three parents says `needle` in its message
  // (the daemon may commit again, the README say, right after).
  bool recorded(const std::string& needle) {
    git_oid id;
    if (git_reference_name_to_id(&id, m_repo, "HEAD") != 0) {
      return false;
    }
    git_commit* commit = nullptr;
    bool found = false;
    for (int depth = 0; depth < 4 && !found && git_commit_lookup(&commit, m_repo, &id) == 0;
         ++depth) {
      found = std::string(git_commit_message(commit)).find(needle) != std::string::npos;
      bool has_parent = git_commit_parentcount(commit) > 0;
      if (has_parent) {
        id = *git_commit_parent_id(commit, 0);
      }
      git_commit_free(commit);
      commit = nullptr;
      if (!has_parent) {
        break;
      }
    }
    return found;
  }

  std::string m_label;
  Daemon m_daemon;
  std::unique_ptr<httplib::Client> m_client;
  int m_fd = -1;
  git_repository* m_repo = nullptr;
  std::vector<double> m_to_2xx, m_to_commit;
  int m_failed = 0, m_missed = 0;
};

}  // namespace

std::vector<json> quiet(const std::vector<Target>& targets, const json& sample,
                        const fs::path& work, int n) {
  std::cout << "\n== Quiet path: " << n
            << " new alert groups, one at a time, each after the previous one's commit ==\n";
  std::vector<std::unique_ptr<Watched>> daemons;
  for (const auto& t : targets) {
    daemons.push_back(std::make_unique<Watched>(t, work / ("quiet-" + t.label)));
  }
  for (int i = 0; i < n; ++i) {
    auto body = storm_body(sample, i);
    for (auto k : in_turn(targets.size(), i)) {
      daemons[k]->one(body, i);
    }
  }
  std::vector<json> rows;
  for (const auto& d : daemons) {
    rows.push_back(d->report(n));
  }
  return rows;
}

}  // namespace calloutd::bench
