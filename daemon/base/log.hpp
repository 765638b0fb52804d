// A small leveled logger writing logfmt lines to stderr, as Prometheus tools do:
//   ts=2026-11-22T03:45:52.038Z level=info msg="..." key=value
// Field values over 1 KiB are cut (never inside a character) and end with
// "... (<size> bytes)". Thread-safe: each line is written with one call under a mutex.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace calloutd::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<Level> parse_level(std::string_view name);
void set_level(Level level);
bool enabled(Level level);

using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;
void write(Level level, std::string_view msg, Fields fields = {});

inline void debug(std::string_view msg, Fields f = {}) {
  write(Level::debug, msg, f);
}
inline void info(std::string_view msg, Fields f = {}) {
  write(Level::info, msg, f);
}
inline void warn(std::string_view msg, Fields f = {}) {
  write(Level::warn, msg, f);
}
inline void error(std::string_view msg, Fields f = {}) {
  write(Level::error, msg, f);
}

}  // namespace calloutd::log
