// What a daemon holds on the host for its pods, taken when it has none, so
// that two such states (before and after a phase) show what the phase left:
// per-pod resources must be absent outright (monitors or shims, cgroups and
// their tasks, veths on its bridge, IP leases, containerd's netns pins and
// shim sockets); paths and mounts under its directories must be those it
// had before.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "tests/bench/load/kubelet_pods.h"

namespace crius::bench::load {

struct HostState {
  std::set<std::string> paths;   // under the daemon's dirs, a few levels deep
  std::set<std::string> mounts;  // mount points under the daemon's dirs
  std::vector<std::string> cgroups, cgroup_tasks;
  std::vector<std::string> veths, ip_leases, netns_pins, shim_sockets;
  std::vector<pid_t> pod_processes;
};

// Waits (bounded by `timeout`) for the daemon's monitors or shims to exit,
// then takes the state.
HostState settled_host_state(const KubeletPods& pods, const Network& net, std::chrono::seconds timeout);

// One line per thing `now` has that a daemon without pods must not have.
std::vector<std::string> leftovers(const HostState& baseline, const HostState& now);

// The leftovers against `baseline`, taken again until there are none or
// `timeout` passed: some things go in the background (containerd's
// snapshots wait for its garbage collector).
std::vector<std::string> settled_leftovers(const KubeletPods& pods, const Network& net, const HostState& baseline,
                                           std::chrono::seconds timeout);

}  // namespace crius::bench::load
