#include "daemon/scanner/scanner.hpp"

#include <boost/asio/post.hpp>
#include <set>

#include "daemon/base/log.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/repo_index.hpp"

namespace calloutd {
namespace {

constexpr auto k_full_rescan = std::chrono::seconds{60};

}  // namespace

Scanner::Scanner(Repository& repository, Metrics& metrics,
                 std::chrono::seconds postmortem_overdue_after)
    : m_repository(repository),
      m_metrics(metrics),
      m_postmortem_overdue_after(postmortem_overdue_after) {}

bool Scanner::read_folder(const std::string& head, const std::string& technology,
                          const std::string& name) {
  std::string folder = technology + "/" + name;
  auto callout_id = m_repository.file_id(head, layout::callout_path(folder));
  // Loosely: people make folders by hand, and the lint reports what is off.
  auto parsed = layout::parse_folder_loosely(name);
  if (!layout::can_be_technology(technology) || !parsed || !callout_id) {
    m_folders.erase(folder);  // not (or no longer) an incident folder
    return false;
  }
  auto postmortem_id = m_repository.file_id(head, layout::postmortem_path(folder)).value_or("");
  auto& facts = m_folders[folder];
  facts.technology = technology;
  facts.issue = parsed->issue;
  if (facts.callout_id != *callout_id) {
    auto text = m_repository.read(head, layout::callout_path(folder));
    if (!text.ok()) {
      // Not taken for an empty file: what was read before stands, and the
      // next scan tries again (its id is not recorded).
      log::warn("cannot read a callout",
                {{"file", layout::callout_path(folder)}, {"error", text.error()}});
    } else {
      facts.callout_id = *callout_id;
      m_changed_callouts.push_back(folder);
      facts.callout = read_callout(text->value_or(""), layout::callout_path(folder));
    }
  }
  if (facts.postmortem_id != postmortem_id) {
    auto text = postmortem_id.empty() ? FileRead(std::optional<std::string>{})
                                      : m_repository.read(head, layout::postmortem_path(folder));
    if (!text.ok()) {
      // As for the callout: kept as it was, read again at the next scan.
      log::warn("cannot read a postmortem",
                {{"file", layout::postmortem_path(folder)}, {"error", text.error()}});
      return true;
    }
    facts.postmortem_id = postmortem_id;
    if (postmortem_id.empty()) {
      facts.postmortem = PostmortemFile{};
      facts.postmortem.problems.push_back(
          Problem{layout::postmortem_path(folder), 0, "the file is missing"});
    } else {
      facts.postmortem = read_postmortem(text->value_or(""), layout::postmortem_path(folder));
    }
    m_changed.push_back(folder);
    for (const auto& p : facts.postmortem.problems) {
      log::warn("cannot read part of a postmortem", {{"problem", p.to_string()}});
    }
  }
  return true;
}

ScanTotals Scanner::scan(const std::string& head, TimePoint now) {
  auto started = std::chrono::steady_clock::now();
  m_changed.clear();
  m_changed_callouts.clear();
  std::optional<std::vector<std::string>> changed;
  if (!m_head.empty() && m_head != head) {
    changed = m_repository.changed_files(m_head, head);
  }
  std::size_t visited = 0;
  if (changed) {
    // Only the folders the commits between the two heads touched.
    std::set<std::pair<std::string, std::string>> folders;
    for (const auto& path : *changed) {
      auto first = path.find('/');
      auto second = first == std::string::npos ? first : path.find('/', first + 1);
      if (second != std::string::npos) {
        folders.insert({path.substr(0, first), path.substr(first + 1, second - first - 1)});
      }
    }
    for (const auto& [technology, name] : folders) {
      read_folder(head, technology, name);
      ++visited;
    }
  } else if (m_head != head) {
    std::set<std::string> present;
    for (const auto& technology : m_repository.list(head, "")) {
      for (const auto& name : m_repository.list(head, technology)) {
        if (read_folder(head, technology, name)) {
          present.insert(technology + "/" + name);
        }
        ++visited;
      }
    }
    std::erase_if(m_folders, [&](const auto& kv) { return !present.contains(kv.first); });
  }
  m_head = head;
  auto result = totals(now);
  m_metrics.set_scan_totals(result);
  m_metrics.observe_scan(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  log::debug("scanned the repository", {{"folders", std::to_string(m_folders.size())},
                                        {"visited", std::to_string(visited)},
                                        {"postmortems_read", std::to_string(m_changed.size())}});
  return result;
}

std::vector<FileObservation> Scanner::observations() const {
  std::vector<FileObservation> out;
  for (const auto& folder : m_changed_callouts) {
    const auto& callout = m_folders.at(folder).callout;
    out.push_back(
        {folder, std::string(layout::k_callout_file), keys::k_status, callout.status, {}, "", {}});
    out.push_back({folder,
                   std::string(layout::k_callout_file),
                   keys::k_severity,
                   callout.severity,
                   {},
                   "",
                   {}});
    out.push_back({folder,
                   std::string(layout::k_callout_file),
                   keys::k_team_roles,
                   "",
                   callout.roles,
                   "",
                   {}});
  }
  for (const auto& folder : m_changed) {
    out.push_back({folder,
                   std::string(layout::k_postmortem_file),
                   keys::k_status,
                   m_folders.at(folder).postmortem.status,
                   {},
                   "",
                   {}});
  }
  return out;
}

void Scanner::forget() {
  m_folders.clear();
  m_head.clear();
}

ScanTotals Scanner::totals(TimePoint now) const {
  ScanTotals t;
  auto today = std::chrono::floor<std::chrono::days>(now);
  for (const auto& [folder, f] : m_folders) {
    ++t.callouts[{f.technology, f.issue}];
    bool resolved = f.callout.status == "resolved";
    if (!resolved) {
      ++t.open_incidents[{f.callout.severity.empty() ? "unknown" : f.callout.severity,
                          f.technology}];
    }
    for (const auto& item : f.postmortem.items) {
      if (item.open()) {
        ++t.items_open[{f.technology, item.type}];
      }
      if (item.overdue(today)) {
        ++t.items_overdue[{f.technology, item.type}];
      }
    }
    const auto& status = f.postmortem.status;
    if (postmortem_pending(resolved, status)) {
      // A Status the template does not know is not published, nor known to be
      // in review: it counts as a draft (and the label values stay two).
      ++t.postmortems_pending[status == "in review" ? status : "draft"];
    }
    // "Write it up the next day": resolved long enough ago and still a draft.
    if (resolved && status == "draft" && f.callout.last_entry &&
        now - *f.callout.last_entry > m_postmortem_overdue_after) {
      ++t.postmortems_overdue;
    }
    if (!f.callout.problems.empty()) {
      ++t.files_with_problems["callout"];
    }
    if (!f.postmortem.problems.empty()) {
      ++t.files_with_problems["postmortem"];
    }
  }
  return t;
}

ScanLoop::ScanLoop(Pipeline& pipeline, Scanner& scanner, Repository& repository, const Clock& clock,
                   std::chrono::milliseconds poll_interval)
    : m_pipeline(pipeline),
      m_io(pipeline.io()),
      m_timer(m_io),
      m_scanner(scanner),
      m_repository(repository),
      m_clock(clock),
      m_poll_interval(poll_interval) {}

void ScanLoop::start() {
  scan_if_needed(true);
  tick();
}

void ScanLoop::stop() {
  boost::asio::post(m_io, [this] {
    m_stopped = true;
    m_timer.cancel();
  });
}

void ScanLoop::poke() {
  boost::asio::post(m_io, [this] { scan_if_needed(false); });
}

void ScanLoop::tick() {
  m_timer.expires_after(m_poll_interval);
  m_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec || m_stopped) {
      return;
    }
    tick();  // armed first: an exception below (survived by the strand's thread) stops no tick
    scan_if_needed(std::chrono::steady_clock::now() - m_last_scan > k_full_rescan);
    if (m_on_tick) {
      m_on_tick();
    }
  });
}

void ScanLoop::scan_if_needed(bool force) {
  auto head = m_repository.head();
  if (!force && head == m_last_head) {
    return;
  }
  m_last_head = head;
  m_last_scan = std::chrono::steady_clock::now();
  m_pipeline.branch_moved(head);  // someone's commit may repair a held group
  m_scanner.scan(head, m_clock.now());
  if (!m_pipeline.observe(m_scanner.observations())) {
    m_scanner.forget();  // not journaled: read everything again at the next scan
    m_last_head.clear();
  }
}

}  // namespace calloutd
