// No exception ends the process: every thread the daemon runs goes through
// keep_running(), which logs an exception that escapes the thread's work,
// counts it by thread, and runs the work again. An exception there is a bug
// (expected failures are Results); the daemon survives it and says so.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace calloutd {

// Runs `work` until it returns. When an exception escapes it, logs it at
// error with `thread`, counts it, waits `pause` (so that a fault that
// recurs at once does not spin) and runs `work` again.
void keep_running(const std::string& thread, const std::function<void()>& work,
                  std::chrono::milliseconds pause = std::chrono::milliseconds(1000));

// Exceptions each thread survived since the start, by thread name.
std::map<std::string, std::uint64_t> survived_exceptions();

}  // namespace calloutd
