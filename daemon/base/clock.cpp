#include "daemon/base/clock.hpp"

namespace calloutd {

TimePoint SystemClock::now() const {
  return std::chrono::system_clock::now();
}

}  // namespace calloutd
