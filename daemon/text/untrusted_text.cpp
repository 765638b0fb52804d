#include "daemon/text/untrusted_text.hpp"

namespace calloutd {
namespace {

bool continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The length in bytes of the hidden control character starting at `text[i]`,
// 0 when there is none there. Matched on UTF-8 bytes (no decoding needed).
std::size_t hidden_control_at(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0u;
  };
  const unsigned c = byte(0);
  if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
    return 1;
  }
  if (c == 0xC2 && byte(1) >= 0x80 && byte(1) <= 0x9F) {
    return 2;  // C1 controls U+0080-U+009F
  }
  if (c == 0xD8 && byte(1) == 0x9C) {
    return 2;  // U+061C arabic letter mark
  }
  if (c == 0xE2 && byte(1) == 0x80 &&
      (byte(2) == 0x8E || byte(2) == 0x8F || (byte(2) >= 0xAA && byte(2) <= 0xAE))) {
    return 3;  // U+200E, U+200F marks; U+202A-U+202E embeddings and overrides
  }
  if (c == 0xE2 && byte(1) == 0x81 && byte(2) >= 0xA6 && byte(2) <= 0xA9) {
    return 3;  // U+2066-U+2069 isolates
  }
  return 0;
}

}  // namespace

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return text;
  }
  std::size_t cut = max_bytes;
  // Step back over at most 3 continuation bytes to the start of the character
  // the limit falls in (more would not be UTF-8: cut there anyway).
  for (int i = 0; i < 3 && cut > 0 && continuation_byte(text[cut]); ++i) {
    --cut;
  }
  if (continuation_byte(text[cut])) {
    cut = max_bytes;
  }
  return text.substr(0, cut);
}

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return std::string(text);
  }
  return std::string(utf8_prefix(text, max_bytes)) + "... (" + std::to_string(text.size()) +
         " bytes)";
}

std::string without_hidden_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (auto n = hidden_control_at(text, i); n > 0) {
      i += n;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string normalise_person_name(std::string_view name) {
  return collapse_whitespace(without_hidden_controls(name));
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

}  // namespace calloutd
