#include "daemon/base/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "daemon/base/timefmt.hpp"
#include "daemon/text/untrusted_text.hpp"

namespace calloutd::log {
namespace {

// A safety net: a field value is cut to this many bytes (whole characters),
// so that received text quoted whole somewhere cannot flood the log.
constexpr std::size_t k_max_value_bytes = 1024;

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mutex;

const char* level_name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

// logfmt quoting: values with spaces, quotes or '=' are quoted and escaped.
std::string quote(std::string_view value) {
  bool needs = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
      needs = true;
    }
  }
  if (!needs) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug")
    return Level::debug;
  if (name == "info")
    return Level::info;
  if (name == "warn")
    return Level::warn;
  if (name == "error")
    return Level::error;
  return std::nullopt;
}

void set_level(Level level) {
  g_level = static_cast<int>(level);
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load();
}

void write(Level level, std::string_view msg, Fields fields) {
  if (!enabled(level)) {
    return;
  }
  std::string line = "ts=" + format_rfc3339_millis(std::chrono::system_clock::now()) +
                     " level=" + level_name(level) + " msg=" + quote(msg);
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += key;
    line += '=';
    line += quote(excerpt(value, k_max_value_bytes));
  }
  line += '\n';
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace calloutd::log
