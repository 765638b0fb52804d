// Counts written as words: "1 alert", "2 alerts", "1 timeline entry".
#pragma once

#include <cstddef>
#include <string>

namespace calloutd {

// `n` and `singular`, or `plural_form` (default: singular + "s") when n != 1.
inline std::string plural(std::size_t n, const std::string& singular,
                          const std::string& plural_form = "") {
  return std::to_string(n) + " " +
         (n == 1                ? singular
          : plural_form.empty() ? singular + "s"
                                : plural_form);
}

}  // namespace calloutd
