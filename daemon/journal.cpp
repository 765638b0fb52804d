#include "daemon/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "daemon/log.hpp"

namespace calloutd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string errno_text() {
  return std::strerror(errno);
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::uint64_t read_mark(const std::string& path) {
  std::uint64_t mark = 0;
  std::ifstream in(path);
  in >> mark;
  return mark;
}

// The whole records of `content`; `good` is set to where they end (a torn or
// unreadable line stops the reading).
std::vector<JournalRecord> read_records(const std::string& content, std::size_t& good) {
  std::vector<JournalRecord> records;
  good = 0;
  while (good < content.size()) {
    auto nl = content.find('\n', good);
    if (nl == std::string::npos) {
      break;
    }
    json j = json::parse(content.begin() + static_cast<long>(good),
                         content.begin() + static_cast<long>(nl), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("seq")) {
      break;
    }
    JournalRecord r;
    r.sequence = j["seq"].get<std::uint64_t>();
    auto t = parse_rfc3339(j.value("received", std::string{}));
    r.received_at = t ? *t : TimePoint{};
    r.source = j.value("source", std::string{});
    r.body = j.value("body", std::string{});
    r.verified = j.value("verified", false);
    records.push_back(std::move(r));
    good = nl + 1;
  }
  return records;
}

}  // namespace

Journal::Journal(std::string dir, std::uint64_t compact_bytes)
    : m_dir(std::move(dir)), m_compact_bytes(compact_bytes) {
  std::error_code ec;
  fs::create_directories(m_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create the journal directory \"" + m_dir +
                             "\": " + ec.message());
  }
  std::uint64_t applied = read_mark(m_dir + "/applied");
  std::string path = m_dir + "/journal.jsonl";
  std::string content = read_file(path);
  std::size_t good = 0;
  for (auto& r : read_records(content, good)) {
    m_last_sequence = std::max(m_last_sequence, r.sequence);
    if (r.sequence > applied) {
      m_unapplied.push_back(std::move(r));
    }
  }
  m_last_sequence = std::max(m_last_sequence, applied);
  m_applied = applied;
  m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw std::runtime_error("cannot open the journal \"" + path + "\": " + errno_text());
  }
  if (good < content.size()) {
    log::warn("cut a torn record off the end of the journal",
              {{"path", path}, {"bytes", std::to_string(content.size() - good)}});
    if (::ftruncate(m_fd, static_cast<off_t>(good)) != 0) {
      throw std::runtime_error("cannot truncate the journal \"" + path + "\": " + errno_text());
    }
    ::fsync(m_fd);
  }
  m_size = good;
  ::lseek(m_fd, static_cast<off_t>(m_size), SEEK_SET);
  fsync_dir(m_dir);
}

Journal::~Journal() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

std::vector<JournalRecord> Journal::take_unapplied() {
  std::lock_guard lock(m_mutex);
  return std::exchange(m_unapplied, {});
}

Result<std::uint64_t> Journal::append(std::string_view source, TimePoint received_at,
                                      std::string_view body, bool verified) {
  std::lock_guard lock(m_mutex);
  std::uint64_t seq = m_last_sequence + 1;
  json j = {{"seq", seq},
            {"received", format_rfc3339_millis(received_at)},
            {"source", source},
            {"body", body},
            {"verified", verified}};
  // Invalid UTF-8 in a body must not make the record unwritable: replace it.
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (!write_all(m_fd, line.data(), line.size()) || ::fdatasync(m_fd) != 0) {
    std::string why = errno_text();
    // Cut off whatever part was written, so the next record starts clean.
    if (::ftruncate(m_fd, static_cast<off_t>(m_size)) == 0) {
      ::lseek(m_fd, static_cast<off_t>(m_size), SEEK_SET);
    }
    return Error{"journal write failed: " + why};
  }
  m_size += line.size();
  m_last_sequence = seq;
  return seq;
}

void Journal::mark_applied(std::uint64_t sequence) {
  std::lock_guard lock(m_mutex);
  m_applied = sequence;
  // The mark is synced only before compaction: a stale mark merely replays
  // already-applied records, which the engine recognises as no change.
  write_mark("applied", sequence, false);
  compact_if_done();
}

std::uint64_t Journal::applied() const {
  std::lock_guard lock(m_mutex);
  return m_applied;
}

void Journal::track_pushed() {
  std::lock_guard lock(m_mutex);
  m_track_pushed = true;
  m_pushed = read_mark(m_dir + "/pushed");
}

void Journal::mark_pushed(std::uint64_t sequence) {
  std::lock_guard lock(m_mutex);
  if (sequence <= m_pushed) {
    return;
  }
  m_pushed = sequence;
  // Not synced: a stale mark only means applying more records again, which
  // changes nothing they already changed.
  write_mark("pushed", sequence, false);
  compact_if_done();
}

std::uint64_t Journal::pushed() const {
  std::lock_guard lock(m_mutex);
  return m_pushed;
}

std::vector<JournalRecord> Journal::applied_after(std::uint64_t sequence) const {
  std::uint64_t applied = this->applied();
  std::size_t good = 0;
  std::vector<JournalRecord> out;
  for (auto& r : read_records(read_file(m_dir + "/journal.jsonl"), good)) {
    if (r.sequence > sequence && r.sequence <= applied) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

void Journal::compact_if_done() {
  bool done = m_applied >= m_last_sequence && (!m_track_pushed || m_pushed >= m_applied);
  if (!done || m_size < m_compact_bytes) {
    return;
  }
  write_mark("applied", m_applied, true);
  if (::ftruncate(m_fd, 0) == 0) {
    ::lseek(m_fd, 0, SEEK_SET);
    ::fsync(m_fd);
    m_size = 0;
    log::info("compacted the journal", {{"applied", std::to_string(m_applied)}});
  }
}

std::uint64_t Journal::last_sequence() const {
  std::lock_guard lock(m_mutex);
  return m_last_sequence;
}

void Journal::write_mark(const std::string& name, std::uint64_t sequence, bool sync) const {
  std::string tmp = m_dir + "/" + name + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return;
  }
  std::string text = std::to_string(sequence) + "\n";
  bool ok = write_all(fd, text.data(), text.size());
  if (sync) {
    ok = ok && ::fsync(fd) == 0;
  }
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), (m_dir + "/" + name).c_str()) == 0 && sync) {
    fsync_dir(m_dir);
  }
}

}  // namespace calloutd
