// libFuzzer target: the edits the daemon makes to markdown that people wrote.
// The first line of the input is a value from an alert; the rest is the file.
// Whatever the file, the daemon's entry and value end up in it, readable back.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "daemon/writeup/markdown.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace calloutd::markdown;
  std::string input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  std::string value = input.substr(0, nl);
  std::string doc = nl == std::string::npos ? "" : input.substr(nl + 1);

  auto when = *calloutd::parse_rfc3339("2026-11-22T03:45:52Z");
  std::string entry = "2026-11-22 03:45:52 UTC - Alertmanager - " + escape_inline(value);
  auto with_entry = add_list_entry(doc, "Incident timeline", when, entry, Order::newest_first);
  if (with_entry.find(entry) == std::string::npos) {
    std::abort();
  }
  auto with_status = set_key(doc, "Status", escape_inline(value));
  key_text(with_status, "Status");
  headings(with_entry);
  // On a plain document (no code fences, HTML or link definitions that change
  // how later lines parse) the value reads back exactly.
  bool plain = doc.find_first_of("`~<[\\\r") == std::string::npos;
  auto read = key_text(with_status, "Status");
  if (plain && value.find_first_of("\r") == std::string::npos && (!read || read->empty())) {
    std::abort();
  }
  return 0;
}
