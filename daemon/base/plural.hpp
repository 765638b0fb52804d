// Counts and lists written as words: "1 alert", "2 alerts", "a, b".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace calloutd {

// `n` and `singular`, or `plural_form` (default: singular + "s") when n != 1.
inline std::string plural(std::size_t n, const std::string& singular,
                          const std::string& plural_form = "") {
  return std::to_string(n) + " " +
         (n == 1                ? singular
          : plural_form.empty() ? singular + "s"
                                : plural_form);
}

// `parts` with `separator` between them.
inline std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& part : parts) {
    out += (out.empty() ? "" : separator) + part;
  }
  return out;
}

}  // namespace calloutd
