// systemd's watchdog, without systemd: the test plays the service manager,
// handing the daemon a NOTIFY_SOCKET of its own and WATCHDOG_USEC, and reads
// the READY=1 and WATCHDOG=1 datagrams the daemon sends.
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using testing::DaemonProcess;
using testing::sample;
using testing::TempDir;
using testing::write_file;

// A datagram socket bound at `path`, as systemd's notify socket is.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    m_bound = ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() { ::close(m_fd); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool bound() const { return m_bound; }

  // How many datagrams holding `message` arrive within `seconds` (stops at `enough`).
  int count(const std::string& message, int enough, double seconds) {
    int seen = 0;
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (seen < enough && std::chrono::steady_clock::now() < until) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      char buf[512];
      auto n = ::recv(m_fd, buf, sizeof buf, 0);
      if (n > 0 &&
          std::string(buf, static_cast<std::size_t>(n)).find(message) != std::string::npos) {
        ++seen;
      }
    }
    return seen;
  }
  // Drops what is queued.
  void drain() {
    char buf[512];
    while (::recv(m_fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  }

 private:
  int m_fd = -1;
  bool m_bound = false;
};

class DaemonWatchdogTest : public ::testing::Test {
 protected:
  DaemonWatchdogTest() {
    write_file(dir.path() / "calloutd.yml", R"(
repository:
  path: callouts
receivers:
  alertmanager:
    bearer_token_file: token
routes:
  - matchers: ['severity="warning"']
    severity: HPI
    technology: api
)");
    write_file(dir.path() / "token", "example-bearer-token\n");
    // The daemon inherits these; the test's own process never reads them.
    ::setenv("NOTIFY_SOCKET", (dir.path() / "notify").c_str(), 1);
    ::setenv("WATCHDOG_USEC", "400000", 1);  // a ping every 200 ms
  }
  ~DaemonWatchdogTest() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
  }
  TempDir dir;
  NotifySocket notify{dir.path() / "notify"};
};

TEST_F(DaemonWatchdogTest, PingsAfterReady) {
  ASSERT_TRUE(notify.bound());
  DaemonProcess d(dir.path(), {"--config.file=calloutd.yml"});
  EXPECT_EQ(notify.count("READY=1", 1, 10), 1);
  EXPECT_EQ(notify.count("WATCHDOG=1", 3, 10), 3);
  EXPECT_NE(d.log().find("systemd watchdog on"), std::string::npos) << d.log();
}

// The pipeline retries a commit the repository refuses on a timer: its
// strand answers, so systemd has no reason to restart the daemon.
TEST_F(DaemonWatchdogTest, RepositoryRefusingCommitsDoesNotStopThePings) {
  ASSERT_TRUE(notify.bound());
  DaemonProcess d(dir.path(), {"--config.file=calloutd.yml"});
  // As in IntakeTest.FailedCommitIsRetriedWhileRunning: no object can be written.
  auto objects = dir.path() / "callouts" / ".git" / "objects";
  for (int i = 0; i < 256; ++i) {
    char name[3];
    std::snprintf(name, sizeof name, "%02x", i);
    if (!std::filesystem::exists(objects / name)) {
      write_file(objects / name, "");
    }
  }
  auto r = d.post_alertmanager(sample("am-0.25-firing-two-alerts.json"),
                               {{"Authorization", "Bearer example-bearer-token"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto c = d.client();
  ASSERT_TRUE(testing::eventually(10, [&] {
    auto ready = c->Get("/-/ready");
    return ready && ready->status == 503;
  }));
  notify.drain();
  EXPECT_EQ(notify.count("WATCHDOG=1", 3, 10), 3) << d.log();
}

}  // namespace
}  // namespace calloutd
