// Refused credentials (401s), logged without flooding the log: the first
// refusal per client address and reason is logged with its endpoint, then
// at most one line per `interval` per (address, reason) with the count since
// the last line. Never a credential: callers pass a reason such as
// "wrong bearer token", not what was sent. Memory is bounded: past
// `max_tracked` (address, reason) pairs, refusals are counted in one "other"
// bucket, so many addresses cannot grow it. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/base/clock.hpp"

namespace calloutd {

class AuthFailureLog {
 public:
  // What to log: the first refusal of its pair (`count` 1, `endpoint` set),
  // or a summary of `count` refusals since the pair's last line.
  struct Line {
    enum class Kind { first, summary };
    Kind kind = Kind::first;
    std::string address;  // k_other_address for the overflow bucket
    std::string reason;
    std::string endpoint;  // the first refusal's endpoint; empty in summaries
    std::size_t count = 0;
  };
  static constexpr const char* k_other_address = "other";

  explicit AuthFailureLog(const Clock& clock, std::size_t max_tracked = 1024,
                          std::chrono::seconds interval = std::chrono::minutes(1));

  // Counts a refusal of `address` for `reason` at `endpoint`; returns what to
  // log now (its first line, and summaries that are due).
  std::vector<Line> refused(const std::string& address, const std::string& reason,
                            const std::string& endpoint);
  // The summaries that are due, for a periodic caller: without it, counts
  // since the last line wait for the next refusal.
  std::vector<Line> due();
  // The (address, reason) pairs tracked, the overflow bucket not included.
  std::size_t tracked() const;

  // Writes `line` to the daemon's log at warn.
  static void write(const Line& line);

 private:
  struct Entry {
    TimePoint last_line;
    std::size_t unlogged = 0;  // refusals since last_line
  };
  using Key = std::pair<std::string, std::string>;  // address, reason
  // Under m_mutex: summaries of entries whose interval has passed; drops
  // the pairs with nothing new for a whole interval.
  void sweep(TimePoint now, std::vector<Line>& out);
  bool is_due(const Entry& e, TimePoint now) const { return now - e.last_line >= m_interval; }

  const Clock& m_clock;
  const std::size_t m_max_tracked;
  const std::chrono::seconds m_interval;
  mutable std::mutex m_mutex;
  std::map<Key, Entry> m_entries;
  std::optional<Entry> m_other;
  TimePoint m_last_sweep{};
};

}  // namespace calloutd
