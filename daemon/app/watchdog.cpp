#include "daemon/app/watchdog.hpp"

#include <systemd/sd-daemon.h>

#include <memory>

#include "daemon/base/keep_running.hpp"
#include "daemon/base/log.hpp"
#include "daemon/base/plural.hpp"

namespace calloutd {
namespace {

// The answers of one round, shared with the probes' loops: an answer that
// comes after the round gave up finds it still alive and changes nothing.
struct Round {
  std::mutex mutex;
  std::condition_variable answered_all;
  std::vector<bool> answered;
  std::size_t waiting = 0;
};

}  // namespace

void SystemdWatchdogNotifier::ping() {
  sd_notify(0, "WATCHDOG=1");
}

std::optional<std::chrono::microseconds> systemd_watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return std::nullopt;
  }
  return std::chrono::microseconds(usec);
}

Watchdog::Watchdog(WatchdogNotifier& notifier, std::vector<WatchdogProbe> probes,
                   std::chrono::microseconds interval)
    : m_notifier(notifier), m_probes(std::move(probes)), m_interval(interval) {}

Watchdog::~Watchdog() {
  stop();
}

std::vector<std::string> Watchdog::unanswered() {
  auto round = std::make_shared<Round>();
  round->answered.assign(m_probes.size(), false);
  round->waiting = m_probes.size();
  for (std::size_t i = 0; i < m_probes.size(); ++i) {
    m_probes[i].post([round, i] {
      std::lock_guard lock(round->mutex);
      if (!round->answered[i]) {
        round->answered[i] = true;
        --round->waiting;
        round->answered_all.notify_all();
      }
    });
  }
  std::unique_lock lock(round->mutex);
  round->answered_all.wait_for(lock, m_interval / 4, [&] { return round->waiting == 0; });
  std::vector<std::string> silent;
  for (std::size_t i = 0; i < m_probes.size(); ++i) {
    if (!round->answered[i]) {
      silent.push_back(m_probes[i].name);
    }
  }
  return silent;
}

bool Watchdog::check() {
  auto silent = unanswered();
  report(silent);
  if (!silent.empty()) {
    return false;
  }
  m_notifier.ping();
  return true;
}

// Logged when it changes, not every round.
void Watchdog::report(const std::vector<std::string>& silent) {
  if (silent == m_silent) {
    return;
  }
  if (!silent.empty()) {
    auto deadline = std::chrono::duration_cast<std::chrono::milliseconds>(m_interval / 4);
    log::error(
        "not pinging systemd's watchdog: a loop does not answer (systemd restarts the "
        "daemon if this lasts)",
        {{"loops", join(silent, ", ")}, {"deadline", std::to_string(deadline.count()) + "ms"}});
  } else {
    log::info("pinging systemd's watchdog again: every loop answers");
  }
  m_silent = silent;
}

void Watchdog::start() {
  m_thread = std::thread([this] {
    keep_running("watchdog", [this] {
      std::unique_lock lock(m_mutex);
      auto next = std::chrono::steady_clock::now();
      while (!m_stopping) {
        lock.unlock();
        check();
        lock.lock();
        next += m_interval / 2;
        m_wake.wait_until(lock, next, [this] { return m_stopping; });
      }
    });
  });
}

void Watchdog::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

}  // namespace calloutd
