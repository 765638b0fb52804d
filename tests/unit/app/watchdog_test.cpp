// Watchdog: WATCHDOG=1 only while every probed loop answers. The loops are
// real Asio io_contexts on threads of their own; wedging one is a task that
// blocks it until the test lets it go.
#include "daemon/app/watchdog.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

class FakeNotifier final : public WatchdogNotifier {
 public:
  void ping() override { ++pings; }
  std::atomic<int> pings{0};
};

// An io_context run on its own thread, as the engine's strand is.
class Loop {
 public:
  Loop() : m_thread([this] { m_io.run(); }) {}
  ~Loop() {
    release();
    m_work.reset();
    m_thread.join();
  }
  WatchdogProbe probe(std::string name) {
    return {std::move(name),
            [this](std::function<void()> answer) { boost::asio::post(m_io, std::move(answer)); }};
  }
  // Blocks the loop (a task that does not return) until release().
  void wedge() {
    boost::asio::post(m_io, [f = m_release.get_future().share()] { f.wait(); });
  }
  void release() {
    if (!m_released.exchange(true)) {
      m_release.set_value();
    }
  }

 private:
  boost::asio::io_context m_io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> m_work{
      m_io.get_executor()};
  std::promise<void> m_release;
  std::atomic<bool> m_released{false};
  std::thread m_thread;
};

// 200 ms: a round waits 50 ms at most for the answers.
constexpr std::chrono::microseconds k_interval{200000};

class WatchdogTest : public ::testing::Test {
 protected:
  FakeNotifier notifier;
  Loop strand;
  Loop http;
  Watchdog watchdog{
      notifier, {strand.probe("engine strand"), http.probe("HTTP I/O loop")}, k_interval};
};

TEST_F(WatchdogTest, PingsWhileBothLoopsAnswer) {
  EXPECT_TRUE(watchdog.check());
  EXPECT_TRUE(watchdog.check());
  EXPECT_EQ(notifier.pings, 2);
}

TEST_F(WatchdogTest, NoPingWhileALoopIsWedgedAndPingsWhenItRecovers) {
  strand.wedge();
  EXPECT_FALSE(watchdog.check());
  EXPECT_FALSE(watchdog.check());
  EXPECT_EQ(notifier.pings, 0);
  strand.release();
  EXPECT_TRUE(watchdog.check());
  EXPECT_EQ(notifier.pings, 1);
}

TEST_F(WatchdogTest, NoPingWhileTheHttpLoopIsWedged) {
  http.wedge();
  EXPECT_FALSE(watchdog.check());
  EXPECT_EQ(notifier.pings, 0);
}

TEST_F(WatchdogTest, ItsThreadPingsEveryHalfInterval) {
  watchdog.start();
  EXPECT_TRUE(testing::eventually(5, [&] { return notifier.pings >= 3; }));
  watchdog.stop();  // joins its thread (a hang here fails the test by its timeout)
}

TEST(WatchdogIntervalTest, OnlyWhenSystemdAsksForIt) {
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(systemd_watchdog_interval(), std::nullopt);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  EXPECT_EQ(systemd_watchdog_interval(), std::chrono::microseconds(30000000));
  // For another process (a child that inherited the environment): not ours.
  ::setenv("WATCHDOG_PID", "1", 1);
  EXPECT_EQ(systemd_watchdog_interval(), std::nullopt);
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
}

}  // namespace
}  // namespace calloutd
