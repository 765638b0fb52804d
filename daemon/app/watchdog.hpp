// systemd's watchdog (WatchdogSec= in the unit): WATCHDOG=1 is sent every
// half interval, but only while the loops that do the daemon's work answer.
// Each round posts a no-op to every probe's loop (the engine's strand, the
// HTTP I/O loop) and pings only when all ran within a quarter of the
// interval. A wedged loop stops the pings and systemd restarts the daemon; a
// repository that refuses commits does not (the pipeline retries on a timer,
// so its strand keeps answering).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace calloutd {

// Where the pings go: sd_notify in the daemon, a fake in tests.
class WatchdogNotifier {
 public:
  virtual ~WatchdogNotifier() = default;
  virtual void ping() = 0;
};

class SystemdWatchdogNotifier final : public WatchdogNotifier {
 public:
  void ping() override;
};

// A loop to check: `post` hands `answer` to the loop, which calls it when
// it runs it (from any thread, at most once; late calls are ignored).
struct WatchdogProbe {
  std::string name;  // for the log: "engine strand"
  std::function<void(std::function<void()> answer)> post;
};

// The interval systemd asked for (WATCHDOG_USEC, for this process), or none
// when the unit has no WatchdogSec=.
std::optional<std::chrono::microseconds> systemd_watchdog_interval();

class Watchdog {
 public:
  Watchdog(WatchdogNotifier& notifier, std::vector<WatchdogProbe> probes,
           std::chrono::microseconds interval);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // One round on the calling thread: posts every probe, waits for their
  // answers (a quarter of the interval at most), pings when all answered.
  // True when it pinged.
  bool check();
  // Runs check() every half interval on a thread of its own, until stop().
  void start();
  void stop();

 private:
  // The names of the probes that did not answer within the deadline.
  std::vector<std::string> unanswered();
  void report(const std::vector<std::string>& silent);

  WatchdogNotifier& m_notifier;
  std::vector<WatchdogProbe> m_probes;
  std::chrono::microseconds m_interval;
  std::vector<std::string> m_silent;  // as of the last round, for the log
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace calloutd
