// The append-only journal that makes a 2xx mean "durable": every accepted
// webhook is appended and fsynced before the answer; after a crash, records
// past the applied mark are replayed. Applying is idempotent (the engine
// compares with the state committed in the repository), so the applied mark
// may lag behind without harm: it only bounds the replay.
//
// Files in `dir`: `journal.jsonl` (one JSON record per line, format in
// journal_format.hpp), `applied` (the last applied sequence number), `held`
// (see mark_held) and
// `journal.quarantine.jsonl` (damaged lines moved aside, see the constructor).
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/result.hpp"
#include "daemon/base/timefmt.hpp"
#include "daemon/journal/journal_format.hpp"

namespace calloutd {

class Journal {
 public:
  // Opens (creating `dir` if needed) and reads the journal. A torn last record
  // (an unterminated last line: a crash mid-write, never acknowledged) is cut
  // off. Every other line that is not a good record (blank, not JSON, a wrong
  // field, a failing checksum) is appended to the quarantine file with its
  // line number and reason, logged, and dropped from the journal by an atomic
  // rewrite; the records after it are kept. Throws std::runtime_error when
  // the directory or files cannot be used, and when the applied mark lies
  // past the last record (replaying from it would skip acknowledged events).
  explicit Journal(std::string dir, std::uint64_t compact_bytes = 64 * 1024 * 1024);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Records written but not yet applied when the journal was opened, in order.
  std::vector<JournalRecord> take_unapplied();

  // Appends and fsyncs; returns the record's sequence number. Thread-safe.
  Result<std::uint64_t> append(std::string_view source, TimePoint received_at,
                               std::string_view body, bool verified = false);

  // Notes that every record up to `sequence` is applied; empties the journal
  // once everything is applied and it has grown past the compaction size.
  void mark_applied(std::uint64_t sequence);
  std::uint64_t applied() const;
  // Events held for their group keep the applied mark before them while
  // later ones are applied: notes that every record up to `processed` was
  // applied except those in `held`, so that the next start replays only
  // those (and what follows `processed`), not the applied ones again.
  // Synced: a file lost or left stale by a power loss would replay events
  // applied long ago, after newer ones of the same incident. Written only
  // while some group is held (and once when the last one is released).
  void mark_held(std::uint64_t processed, const std::vector<std::uint64_t>& held);
  // The `processed` of the `held` file read when the journal was opened (0
  // when there was none, or it was not past the applied mark): every record
  // up to it but the held ones had been applied.
  std::uint64_t noted_processed() const { return m_noted_processed; }

  // With a remote: records stay until their commits are pushed (the `pushed`
  // file holds that mark), so that a push the remote rejects can be redone
  // by applying them again on the remote's head.
  void track_pushed();
  void mark_pushed(std::uint64_t sequence);
  std::uint64_t pushed() const;
  // Records after `sequence` up to the applied mark (or `up_to` when
  // further: events applied past one held for its group), read from the file.
  std::vector<JournalRecord> applied_after(std::uint64_t sequence, std::uint64_t up_to = 0) const;

  std::uint64_t last_sequence() const;

  // The lines moved to the quarantine file when the journal was opened, as
  // `<journal path>:<line>: <reason>`.
  const std::vector<std::string>& quarantined() const { return m_quarantined; }

 private:
  void write_mark(const std::string& name, std::uint64_t sequence, bool sync) const;
  void write_text(const std::string& name, const std::string& text, bool sync) const;
  // What the `held` file says of the records past the applied mark `applied`.
  struct HeldNote {
    std::uint64_t processed = 0;  // 0: the file says nothing (absent, unreadable, behind the mark)
    std::set<std::uint64_t> held;
    bool applied(std::uint64_t sequence) const {
      return sequence <= processed && !held.contains(sequence);
    }
  };
  HeldNote read_held_note(std::uint64_t applied) const;
  void compact_if_done();  // with m_mutex held
  std::string journal_path() const;
  void check_applied_mark(std::uint64_t applied, const ParsedJournal& parsed) const;
  void set_aside(const ParsedJournal& parsed);
  void quarantine(const std::vector<JournalProblem>& problems);

  std::string m_dir;
  std::uint64_t m_compact_bytes;
  int m_fd = -1;
  mutable std::mutex m_mutex;
  std::uint64_t m_last_sequence = 0;
  std::uint64_t m_size = 0;
  std::uint64_t m_applied = 0;
  std::uint64_t m_noted_processed = 0;
  bool m_track_pushed = false;
  std::uint64_t m_pushed = 0;
  std::vector<JournalRecord> m_unapplied;
  std::vector<std::string> m_quarantined;
};

}  // namespace calloutd
