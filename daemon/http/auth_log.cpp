#include "daemon/http/auth_log.hpp"

#include "daemon/base/log.hpp"

namespace calloutd {
namespace {

// The overflow bucket mixes reasons.
constexpr const char* k_any_reason = "any";

}  // namespace

AuthFailureLog::AuthFailureLog(const Clock& clock, std::size_t max_tracked,
                               std::chrono::seconds interval)
    : m_clock(clock), m_max_tracked(max_tracked), m_interval(interval) {}

std::vector<AuthFailureLog::Line> AuthFailureLog::refused(const std::string& address,
                                                          const std::string& reason,
                                                          const std::string& endpoint) {
  std::lock_guard lock(m_mutex);
  const auto now = m_clock.now();
  std::vector<Line> out;
  sweep(now, out);
  Entry* entry = nullptr;
  Line line{Line::Kind::first, address, reason, endpoint, 1};
  if (auto it = m_entries.find({address, reason}); it != m_entries.end()) {
    entry = &it->second;
  } else if (m_entries.size() < m_max_tracked) {
    m_entries.emplace(Key{address, reason}, Entry{now, 0});
    out.push_back(std::move(line));
    return out;
  } else if (m_other) {
    entry = &*m_other;
    line.address = k_other_address;
    line.reason = k_any_reason;
  } else {
    m_other = Entry{now, 0};
    out.push_back(Line{Line::Kind::first, k_other_address, k_any_reason, endpoint, 1});
    return out;
  }
  ++entry->unlogged;
  if (is_due(*entry, now)) {
    out.push_back(Line{Line::Kind::summary, line.address, line.reason, "", entry->unlogged});
    *entry = Entry{now, 0};
  }
  return out;
}

std::vector<AuthFailureLog::Line> AuthFailureLog::due() {
  std::lock_guard lock(m_mutex);
  std::vector<Line> out;
  sweep(m_clock.now(), out);
  return out;
}

std::size_t AuthFailureLog::tracked() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

void AuthFailureLog::sweep(TimePoint now, std::vector<Line>& out) {
  // Every entry is looked at once an interval at most: a refusal costs
  // O(log n), not O(n).
  if (now - m_last_sweep < m_interval) {
    return;
  }
  m_last_sweep = now;
  for (auto it = m_entries.begin(); it != m_entries.end();) {
    Entry& e = it->second;
    if (!is_due(e, now)) {
      ++it;
    } else if (e.unlogged == 0) {
      it = m_entries.erase(it);  // quiet for an interval: forgotten
    } else {
      out.push_back(Line{Line::Kind::summary, it->first.first, it->first.second, "", e.unlogged});
      e = Entry{now, 0};
      ++it;
    }
  }
  if (m_other && is_due(*m_other, now)) {
    if (m_other->unlogged > 0) {
      out.push_back(
          Line{Line::Kind::summary, k_other_address, k_any_reason, "", m_other->unlogged});
      m_other = Entry{now, 0};
    } else {
      m_other.reset();
    }
  }
}

void AuthFailureLog::write(const Line& line) {
  if (line.kind == Line::Kind::first) {
    log::warn("refused a request: bad credentials",
              {{"remote", line.address}, {"endpoint", line.endpoint}, {"reason", line.reason}});
  } else {
    log::warn(
        "refused requests: bad credentials, since the last line",
        {{"remote", line.address}, {"reason", line.reason}, {"count", std::to_string(line.count)}});
  }
}

}  // namespace calloutd
