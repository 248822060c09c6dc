// Phase 2: pod create/remove cycles, `parallel` at a time, and what they
// cost the daemon for good. A cycle is RunPodSandbox, PodSandboxStatus (as
// kubelet asks next), StopPodSandbox, RemovePodSandbox; every
// `container_every`-th one also runs a `sleep` container in the pod
// (CreateContainer, StartContainer, until RUNNING, StopContainer,
// RemoveContainer), so that crius's monitor and containerd's container path
// are in the loop too.
//
// The daemon's footprint (VmRSS, open fds, threads) is taken after `warmup`
// cycles and a settle (its monitors or shims gone, then `settle` idle),
// along the way (pods of the cycles in flight then), and after the last cycle and the same settle; the host
// state is compared between the first and the last of these.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tests/bench/load/host_state.h"
#include "tests/bench/load/rpc_tally.h"

namespace crius::bench::load {

struct CyclesOptions {
  int cycles = 1000, warmup = 20, container_every = 5, checkpoints = 4, parallel = 3;
  std::chrono::seconds settle{5};
};

struct Footprint {
  long rss_kb = 0;
  int fds = 0, threads = 0;
};
Footprint footprint_of(pid_t pid);

struct CyclesResult {
  RpcTally steps;
  Footprint before, after;
  std::vector<std::pair<int, Footprint>> trend;  // (cycles done, footprint then)
  std::vector<std::string> left;                 // what the cycles left on the host
  double seconds = 0;
  int cycles_done = 0, with_container = 0;
};

void run_cycles(const KubeletPods& pods, const Network& net, const CyclesOptions& o, CyclesResult& out);

}  // namespace crius::bench::load
