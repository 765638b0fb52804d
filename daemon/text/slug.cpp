#include "daemon/text/slug.hpp"

#include <cctype>

namespace calloutd {
namespace {

constexpr std::size_t k_max_slug_length = 64;

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string kebab_slug(std::string_view text, std::string_view fallback) {
  std::string out;
  bool pending_dash = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool alnum = is_lower(c) || is_upper(c) || is_digit(c);
    if (!alnum) {
      pending_dash = !out.empty();
      continue;
    }
    // A word boundary inside CamelCase: `tL` in HighLag, or `PL` in `HTTPLag`
    // (an upper-case letter followed by a lower-case one after an upper run).
    if (is_upper(c) && i > 0 && !out.empty()) {
      char prev = text[i - 1];
      bool next_lower = i + 1 < text.size() && is_lower(text[i + 1]);
      if (is_lower(prev) || is_digit(prev) || (is_upper(prev) && next_lower)) {
        pending_dash = true;
      }
    }
    if (pending_dash) {
      out += '-';
      pending_dash = false;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.size() > k_max_slug_length) {
    out.resize(k_max_slug_length);
  }
  while (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  return out.empty() ? std::string(fallback) : out;
}

std::string technology_slug(std::string_view text) {
  // Technologies are names (`mysql`, `kubernetes`), not CamelCase phrases:
  // lower-case them first so `MySQL` stays one word.
  std::string lower;
  for (char c : text) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return kebab_slug(lower, "unclassified");
}

}  // namespace calloutd
