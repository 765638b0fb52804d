// What the HTTP endpoints need of the pipeline: journal an event, recognise a
// copy of one already applied, read the open incidents, and ask the engine a
// question on its strand. The Pipeline implements it; tests of the HTTP
// server put a fake in its place. Every member is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/engine/engine.hpp"
#include "receivers/event.hpp"

namespace calloutd {

class Submitter {
 public:
  virtual ~Submitter() = default;

  enum class Refusal { overloaded, journal_failed };
  // What recognises a copy of an Alertmanager notification: the SHA-256 of
  // its body, and receivers::content_key of what it says.
  struct CopyKeys {
    std::string body;
    std::string content;
  };
  // Journals `body` from `source` and queues its parsed `payload` for the
  // engine; the returned sequence number means the event is durable.
  // `verified`: its signature checked out. `keys`: computed when empty.
  virtual std::variant<std::uint64_t, Refusal> submit(std::string_view source,
                                                      std::string_view body, Payload payload,
                                                      bool verified, CopyKeys keys) = 0;
  // The sequence number of the Alertmanager notification an identical copy
  // repeats (by group and content key, or by the body's SHA-256), when
  // applying it again would change nothing.
  virtual std::optional<std::uint64_t> duplicate_of(const std::string& group_key,
                                                    const std::string& content_key) const = 0;
  virtual std::optional<std::uint64_t> duplicate_of_body(const std::string& body_key) const = 0;
  virtual std::vector<IncidentSummary> open_incidents() const = 0;
  // Events could not be committed; they are held and retried.
  virtual bool stuck() const = 0;

  // A group whose events are held for a reason of its own (engine's Failure:
  // its state file unreadable, its write-up unreadable, its folder unsafe)
  // while other groups' events go on.
  struct HeldGroup {
    std::string group;        // the engine's state id
    std::string reason;       // failure_name(): "state_unreadable", ...
    std::string error;        // what the engine said, naming the file
    std::string incident_id;  // "" when not known (its state cannot be read)
    std::string folder;       // likewise
    std::size_t events = 0;   // held, oldest first
    std::uint64_t oldest_sequence = 0;
    TimePoint since{};  // when its first held event failed
  };
  virtual std::vector<HeldGroup> held_groups() const = 0;
  // Runs `task` on the engine's strand and waits for it (exceptions included).
  virtual void run_on_strand(const std::function<void()>& task) = 0;

  // run_on_strand() for a task with a result.
  template <typename Task>
  auto on_strand(Task task) -> decltype(task()) {
    using R = decltype(task());
    if constexpr (std::is_void_v<R>) {
      run_on_strand(task);
    } else {
      std::optional<R> result;
      run_on_strand([&] { result.emplace(task()); });
      return std::move(*result);
    }
  }
};

}  // namespace calloutd
