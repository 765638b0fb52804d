#include "daemon/base/keep_running.hpp"

#include <exception>
#include <mutex>
#include <thread>

#include "daemon/base/log.hpp"

namespace calloutd {
namespace {

std::mutex g_mutex;
std::map<std::string, std::uint64_t> g_survived;

void survived(const std::string& thread, const std::string& what) {
  {
    std::lock_guard lock(g_mutex);
    ++g_survived[thread];
  }
  log::error("an exception escaped a thread's work; the daemon goes on (a bug: please report it)",
             {{"thread", thread}, {"error", what}});
}

}  // namespace

void keep_running(const std::string& thread, const std::function<void()>& work,
                  std::chrono::milliseconds pause) {
  for (;;) {
    try {
      work();
      return;
    } catch (const std::exception& e) {
      survived(thread, e.what());
    } catch (...) {
      survived(thread, "an exception that is not a std::exception");
    }
    if (pause.count() > 0) {
      std::this_thread::sleep_for(pause);
    }
  }
}

std::map<std::string, std::uint64_t> survived_exceptions() {
  std::lock_guard lock(g_mutex);
  return g_survived;
}

}  // namespace calloutd
