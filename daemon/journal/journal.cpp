#include "daemon/journal/journal.hpp"

#include <algorithm>

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

#include "daemon/base/hash.hpp"
#include "daemon/base/log.hpp"

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

// Replaces the file at `path` with `content` so that a crash at any moment
// leaves either the old or the new file whole: a temporary file, synced,
// renamed over it, and the directory synced.
void replace_file(const std::string& dir, const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && write_all(fd, content.data(), content.size()) && ::fsync(fd) == 0;
  std::string why = errno_text();
  if (fd >= 0) {
    ::close(fd);
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    why = errno_text();
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rewrite the journal \"" + path +
                             "\" without its bad lines (it is unchanged): " + why);
  }
  fsync_dir(dir);
}

// One quarantine entry: where the line was, why, and the line itself (as
// base64 when it is not UTF-8, so that every byte is kept).
std::string quarantine_entry(const std::string& path, const JournalProblem& problem,
                             const std::string& now) {
  json entry = {{"journal", path},
                {"line", problem.line},
                {"reason", problem.reason},
                {"quarantined_at", now}};
  try {
    entry["raw"] = problem.raw;
    return entry.dump() + "\n";
  } catch (const json::type_error&) {
    entry.erase("raw");
    entry["raw_base64"] = base64_encode(problem.raw);
    return entry.dump() + "\n";
  }
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
  std::string path = journal_path();
  ParsedJournal parsed = parse_journal(read_file(path));
  check_applied_mark(applied, parsed);
  set_aside(parsed);
  const auto note = read_held_note(applied);
  m_noted_processed = note.processed;
  for (auto& r : parsed.records) {
    m_last_sequence = std::max(m_last_sequence, r.sequence);
    if (r.sequence > applied && !note.applied(r.sequence)) {
      m_unapplied.push_back(std::move(r));
    }
  }
  m_last_sequence = std::max(m_last_sequence, applied);
  m_applied = applied;
  m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw std::runtime_error("cannot open the journal \"" + path + "\": " + errno_text());
  }
  m_size = parsed.kept.size();
  ::lseek(m_fd, static_cast<off_t>(m_size), SEEK_SET);
  fsync_dir(m_dir);
}

// The `held` file (see mark_held): its first line the sequence every record
// up to which was applied or held for its group, then the held ones. A file
// that does not read so is ignored (then everything past the mark replays).
Journal::HeldNote Journal::read_held_note(std::uint64_t applied) const {
  std::ifstream in(m_dir + "/held");
  HeldNote note;
  if (!(in >> note.processed) || note.processed <= applied) {
    return {};
  }
  for (std::uint64_t seq = 0; in >> seq;) {
    note.held.insert(seq);
  }
  if (!in.eof()) {
    return {};
  }
  return note;
}

std::string Journal::journal_path() const {
  return m_dir + "/journal.jsonl";
}

// Compaction empties only a fully applied journal and numbering goes on
// after the mark, so a mark past the last record means the mark or the
// journal came from somewhere else: replaying from it would skip records.
void Journal::check_applied_mark(std::uint64_t applied, const ParsedJournal& parsed) const {
  std::uint64_t last = 0;
  for (const auto& r : parsed.records) {
    last = std::max(last, r.sequence);
  }
  if (parsed.records.empty() || applied <= last) {
    return;
  }
  std::string mark = m_dir + "/applied";
  if (!parsed.problems.empty() && parsed.problems.back().line > parsed.last_record_line) {
    // The mark may be a damaged record's, after the last readable one.
    log::warn("the applied mark is past the last readable record of the journal",
              {{"applied", std::to_string(applied)},
               {"last_record", std::to_string(last)},
               {"path", journal_path()}});
    return;
  }
  throw std::runtime_error(
      "the applied mark in " + mark + " is " + std::to_string(applied) +
      ", past the journal's last record (sequence " + std::to_string(last) + " in " +
      journal_path() +
      "); calloutd never writes such a mark, and replaying from it would skip acknowledged "
      "events. Check that repository.journal_dir belongs to this repository and that " +
      mark +
      " was not edited or copied from another journal; to replay every record of the "
      "journal (applying a record again changes nothing), remove " +
      mark + " and start again");
}

// Moves the problems to the quarantine file and cuts the torn tail.
void Journal::set_aside(const ParsedJournal& parsed) {
  std::string path = journal_path();
  if (parsed.torn_bytes > 0) {
    log::warn("cut a torn record off the end of the journal",
              {{"path", path + ":" + std::to_string(parsed.torn_line)},
               {"bytes", std::to_string(parsed.torn_bytes)}});
  }
  if (!parsed.problems.empty()) {
    // Quarantined (and synced) before the rewrite: a crash in between at
    // worst quarantines the same lines again at the next start.
    quarantine(parsed.problems);
    replace_file(m_dir, path, parsed.kept);
  } else if (parsed.torn_bytes > 0) {
    if (::truncate(path.c_str(), static_cast<off_t>(parsed.kept.size())) != 0) {
      throw std::runtime_error("cannot truncate the journal \"" + path + "\": " + errno_text());
    }
  }
}

void Journal::quarantine(const std::vector<JournalProblem>& problems) {
  std::string path = journal_path();
  std::string file = m_dir + "/journal.quarantine.jsonl";
  std::string now = format_rfc3339_millis(std::chrono::system_clock::now());
  std::string text;
  for (const auto& p : problems) {
    text += quarantine_entry(path, p, now);
  }
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && write_all(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  std::string why = errno_text();
  if (fd >= 0) {
    ::close(fd);
  }
  if (!ok) {
    throw std::runtime_error("cannot write the journal's quarantine file \"" + file +
                             "\" (the journal is unchanged): " + why);
  }
  fsync_dir(m_dir);
  for (const auto& p : problems) {
    std::string where = path + ":" + std::to_string(p.line) + ": " + p.reason;
    log::warn("moved a bad journal record aside; the records after it are kept",
              {{"problem", where}, {"quarantine", file}});
    m_quarantined.push_back(std::move(where));
  }
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
  // Invalid UTF-8 in a body must not make the record unwritable: replaced.
  std::string line =
      encode_journal_record({seq, received_at, std::string(source), std::string(body), verified});
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

// Synced, unlike the applied mark (whose staleness replays at most what the
// last seconds applied): this file stands for what was applied during a
// whole hold, and an old one would name as held events released and applied
// since. Commits are synced before it is written, so it never names as
// applied an event whose commit a power loss could undo.
void Journal::mark_held(std::uint64_t processed, const std::vector<std::uint64_t>& held) {
  std::lock_guard lock(m_mutex);
  std::string text = std::to_string(processed) + "\n";
  for (auto seq : held) {
    text += std::to_string(seq) + "\n";
  }
  write_text("held", text, true);
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

std::vector<JournalRecord> Journal::applied_after(std::uint64_t sequence,
                                                  std::uint64_t up_to) const {
  std::uint64_t applied = std::max(this->applied(), up_to);
  std::vector<JournalRecord> out;
  // Lines damaged since the start are skipped here; the next start quarantines them.
  for (auto& r : parse_journal(read_file(journal_path())).records) {
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
  write_text(name, std::to_string(sequence) + "\n", sync);
}

void Journal::write_text(const std::string& name, const std::string& text, bool sync) const {
  std::string tmp = m_dir + "/" + name + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return;
  }
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
