// Container lifecycle events (what the CRI's GetContainerEvents streams):
// Containers reports each change of a container's state to one listener,
// in order per container, with no lock of its own held, so the listener may
// read the containers (Containers::peek) to describe the event.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "container/record.h"

namespace crius::container {

// The CRI ContainerEventType, same values.
enum class Event { created = 0, started = 1, stopped = 2, deleted = 3 };

struct ContainerEvent {
  Event kind;
  std::string container_id, pod_id;
  int64_t at = 0;  // nanoseconds since the epoch
};

using EventListener = std::function<void(const ContainerEvent&)>;

// The event a stored record's change from `before` to `after` is: started
// for created→running, stopped for a first exited; none otherwise.
inline std::optional<Event> transition(State before, State after) {
  if (before == after) return std::nullopt;
  if (after == State::running && before == State::created) return Event::started;
  if (after == State::exited) return Event::stopped;
  return std::nullopt;
}

}  // namespace crius::container
