// The OOM kill counter of a container's memory cgroup, read when its init
// is created and again when it exits: a higher count means the kernel's OOM
// killer acted in the container. cgroup v2: memory.events `oom_kill`; v1:
// memory.oom_control `oom_kill`. The file is kept open, so it stays readable
// however the cgroup path changes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/fd.h"

namespace crius::oci::monitor {

class OomCounter {
 public:
  // The counter of pid's memory cgroup; nullopt when there is none to read.
  static std::optional<OomCounter> of(pid_t pid);
  // True when the count grew since of().
  bool fired() const;

 private:
  OomCounter() = default;
  uint64_t read() const;
  Fd fd_;
  uint64_t base_ = 0;
};

// The `oom_kill` value in the text of memory.events or memory.oom_control.
uint64_t parse_oom_kill(const std::string& text);

}  // namespace crius::oci::monitor
