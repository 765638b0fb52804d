// People's edits in engine tests: an engineer's commit, and what the scanner
// and the pipeline make of it (the engine's news, applied as events).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "daemon/engine/engine.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/scanner/scanner.hpp"
#include "tests/support/fake_repository.hpp"

namespace calloutd::testing {

// Commits `path`, changed by `edit`, as an engineer would at `when`.
inline void edit_by_hand(FakeRepository& repo, const std::string& path,
                         const std::function<std::string(std::string)>& edit, TimePoint when) {
  repo.commit_time = when;
  repo.commit_by_hand(path, edit(repo.file(path)));
}

// Reads the repository's head as the scanner does and applies what the
// engine does not know yet, each edit an event received at `now`. The
// results, one per edit applied (none when nothing was news).
inline std::vector<ApplyResult> apply_edits(Engine& engine, Repository& repo, TimePoint now) {
  Metrics metrics;
  Scanner scanner(repo, metrics, std::chrono::hours(24));
  scanner.scan(repo.head(), now);
  std::vector<Event> events;
  for (auto& o : engine.news(scanner.observations())) {
    events.push_back(Event{0, now, std::move(o)});
  }
  return events.empty() ? std::vector<ApplyResult>{} : engine.apply_batch(events);
}

}  // namespace calloutd::testing
