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

#include <optional>

#include "oci/cgroups/stats.h"

namespace crius::container {

// cpu (total, user, system), memory (usage, working_set, rss) and
// pids.current; nothing when the init is gone, its namespace cannot be read
// or is the caller's own.
std::optional<oci::cgroups::Stats> proc_usage(pid_t init);

}  // namespace crius::container
