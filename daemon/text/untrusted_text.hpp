// Helpers for text that arrives from outside (webhook bodies, API requests,
// files people edit): bounded excerpts for error messages and logs, removal of
// characters that display other than they read, and people's names in one
// canonical form. Pure functions of their input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace calloutd {

// The longest prefix of `text` of at most `max_bytes` bytes that ends on a
// UTF-8 character boundary (a character is never cut in two).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// `text` whole when it has at most `max_bytes` bytes, else its first
// `max_bytes` (UTF-8 safe) followed by `... (<size> bytes)`: how an error
// message or a log line quotes a value it received.
inline constexpr std::size_t k_excerpt_bytes = 100;
std::string excerpt(std::string_view text, std::size_t max_bytes = k_excerpt_bytes);

// `text` without the characters that make text display other than it reads:
// Unicode bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
// U+061C), C1 controls (U+0080-U+009F), DEL, and C0 controls other than tab,
// line feed and carriage return. They are removed, not replaced.
std::string without_hidden_controls(std::string_view text);

// `text` with runs of whitespace (space, tab, line ends) as one space, and
// none at either end.
std::string collapse_whitespace(std::string_view text);

// A person's name in the one form calloutd compares and stores: hidden
// controls removed, runs of whitespace (space, tab, line ends) collapsed to
// one space, trimmed. "  Bo \t Li " is "Bo Li"; markdown escaping and reading
// back leave such a name unchanged, so the same person compares equal.
std::string normalise_person_name(std::string_view name);

}  // namespace calloutd
