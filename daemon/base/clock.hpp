// The clock behind an interface, so tests can move time.
#pragma once

#include "daemon/base/timefmt.hpp"

namespace calloutd {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

}  // namespace calloutd
