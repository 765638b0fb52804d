#include "daemon/metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

namespace calloutd {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

// The fields of /proc/self/stat after the command name (which may hold
// spaces and parentheses, so the text after the last ')' is split):
// index 0 is field 3 of proc(5), the state.
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto end_of_name = text.rfind(')');
  if (end_of_name == std::string::npos) {
    return {};
  }
  std::istringstream rest(text.substr(end_of_name + 1));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

// Field `number` of proc(5)'s /proc/[pid]/stat, if read.
std::optional<double> stat_field(const std::vector<std::string>& fields, std::size_t number) {
  std::size_t index = number - 3;
  if (index >= fields.size()) {
    return std::nullopt;
  }
  try {
    return std::stod(fields[index]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> open_fds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return ec ? std::nullopt : std::optional<double>(n);
}

std::optional<double> max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::nullopt;
  }
  return static_cast<double>(limit.rlim_cur);
}

// Adds the family `name` with its one series at `value`, when there is one.
void add(std::vector<MetricFamily>& out, const char* name, const char* help, MetricType type,
         std::optional<double> value) {
  if (!value) {
    return;
  }
  MetricFamily family{name, help, type, {prometheus::ClientMetric{}}};
  if (type == MetricType::Counter) {
    family.metric[0].counter.value = *value;
  } else {
    family.metric[0].gauge.value = *value;
  }
  out.push_back(std::move(family));
}

}  // namespace

std::vector<MetricFamily> process_metrics(double start_time_seconds) {
  auto fields = stat_fields();
  // utime (14) and stime (15) in clock ticks; vsize (23) in bytes; rss (24) in pages.
  auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto utime = stat_field(fields, 14);
  auto stime = stat_field(fields, 15);
  auto rss = stat_field(fields, 24);
  std::optional<double> cpu;
  if (utime && stime && ticks > 0) {
    cpu = (*utime + *stime) / ticks;
  }
  std::vector<MetricFamily> out;
  add(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      MetricType::Counter, cpu);
  add(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, open_fds());
  add(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
      max_fds());
  add(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
      stat_field(fields, 23));
  add(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
      rss ? std::optional<double>(*rss * page) : std::nullopt);
  add(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      MetricType::Gauge, start_time_seconds);
  return out;
}

}  // namespace calloutd
