// The journal's line format and its pure reader. One record per line: a JSON
// object with "seq", "received", "source", "body", "verified" and "sum", a
// checksum of the rest. No I/O here: the journal (journal.hpp) reads and
// writes the files, and the fuzz target calls parse_journal directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/timefmt.hpp"

namespace calloutd {

struct JournalRecord {
  std::uint64_t sequence = 0;
  TimePoint received_at{};
  std::string source;     // receiver name: "alertmanager"
  std::string body;       // the raw webhook body, parsed again on replay
  bool verified = false;  // its signature was verified when it arrived
};

// A complete line that is not a good record.
struct JournalProblem {
  std::size_t line = 0;  // 1-based
  std::string reason;    // `"seq" is not a number`
  std::string raw;       // the line, without its '\n'
};

struct ParsedJournal {
  std::vector<JournalRecord> records;    // the good records, in file order
  std::vector<JournalProblem> problems;  // every complete line that is not one
  // The good lines, byte for byte, each with its '\n': the journal without
  // its problems and its torn tail.
  std::string kept;
  std::size_t last_record_line = 0;  // the line of the last good record (0: none)
  // An unterminated last line: a write cut short by a crash, which was never
  // acknowledged (an append answers only after the whole line is synced).
  std::size_t torn_line = 0;  // 0: none
  std::size_t torn_bytes = 0;
};

// Reads journal `content`. Never throws for any content. A record written
// before checksums existed (no "sum") is still a good record.
ParsedJournal parse_journal(std::string_view content);

// The line that stores `record`, checksum and '\n' included (invalid UTF-8
// in its strings replaced by U+FFFD, so that any body can be stored).
std::string encode_journal_record(const JournalRecord& record);

}  // namespace calloutd
