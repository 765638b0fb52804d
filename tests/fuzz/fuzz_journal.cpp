// libFuzzer target: the journal reader on arbitrary file content. Every line
// is a record, a problem with a reason, or the torn tail; what the reader
// keeps reads back as the same records with no problems; and every record
// it returns can be written again and read back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/journal/journal_format.hpp"

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool same(const calloutd::JournalRecord& a, const calloutd::JournalRecord& b) {
  return a.sequence == b.sequence && a.received_at == b.received_at && a.source == b.source &&
         a.body == b.body && a.verified == b.verified;
}

void check_lines(std::string_view content, const calloutd::ParsedJournal& parsed) {
  std::size_t lines = 0;
  for (char c : content) {
    lines += c == '\n';
  }
  bool torn = !content.empty() && content.back() != '\n';
  check((parsed.torn_bytes > 0) == torn);
  check(parsed.records.size() + parsed.problems.size() == lines);
  std::size_t previous = 0;
  for (const auto& p : parsed.problems) {
    check(p.line > previous && p.line <= lines && !p.reason.empty());
    previous = p.line;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view content(reinterpret_cast<const char*>(data), size);
  auto parsed = calloutd::parse_journal(content);
  check_lines(content, parsed);
  auto again = calloutd::parse_journal(parsed.kept);
  check(again.problems.empty() && again.torn_bytes == 0 && again.kept == parsed.kept);
  check(again.records.size() == parsed.records.size());
  for (std::size_t i = 0; i < parsed.records.size(); ++i) {
    check(same(again.records[i], parsed.records[i]));
    // Written again, a record reads back unchanged (its time to the millisecond).
    std::string line = calloutd::encode_journal_record(parsed.records[i]);
    auto round = calloutd::parse_journal(line);
    check(round.records.size() == 1 && round.problems.empty());
    check(calloutd::encode_journal_record(round.records[0]) == line);
    check(round.records[0].body == parsed.records[i].body);
  }
  return 0;
}
