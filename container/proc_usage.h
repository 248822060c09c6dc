// A container's CPU and memory read from /proc, for a container that has no
// cgroup to read them from: a rootless daemon without cgroup delegation runs
// its containers so (see oci/runtime's cgroupless create).
//
// The container's processes are those in its init's mount namespace, which
// its processes and every exec into it share (one that makes a mount
// namespace of its own drops out). CPU is their user and system time, each
// with the time of the children it has reaped, so that a process that exits
// inside the container keeps counting through its parent; memory is their
// resident set (VmRSS, which counts a shared page once per process: an upper
// bound).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "oci/cgroups/stats.h"

namespace crius::container {

// cpu (total, user, system), memory (usage, working_set, rss) and
// pids.current; nothing when the init is gone, its namespace cannot be read
// or is the caller's own.
std::optional<oci::cgroups::Stats> proc_usage(pid_t init);

// Keeps one container's CPU readings from /proc from going back: an exec'd
// process is the monitor's child, so its time leaves the sum when it ends.
// What a reading lost against the one before is added to it and to every
// later one, user and system time each, and total is their sum.
class CpuCarry {
 public:
  void apply(oci::cgroups::Stats::Cpu& reading);

 private:
  uint64_t user_ns_ = 0, system_ns_ = 0;      // the last reading, as read
  uint64_t user_lost_ = 0, system_lost_ = 0;  // added back to every reading
};

}  // namespace crius::container
