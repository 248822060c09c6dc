// Phase 1: fast RPCs under pod churn. `parallel` workers start and tear down
// `pods` pods of one `sleep` container each, pod i not before
// i * `pod_interval_ms` (so that both daemons are offered the same churn per
// second; 0: as fast as the daemon goes) (RunPodSandbox, CreateContainer,
// StartContainer, until RUNNING, StopContainer, RemoveContainer,
// StopPodSandbox, RemovePodSandbox) while `clients` threads make exactly
// `rpcs` calls spread over ListPodSandbox, ListContainers, Status,
// ContainerStatus and PodSandboxStatus, the last two on a pod or container
// that exists when the call is made. One long-lived pod (as a node always
// has) keeps such an ID there from start to end.
//
// The calls are released in step with the churn: after k of its steps are
// done, k/steps of the calls may have been made, so that they spread over
// the whole churn rather than finish in its first second.
//
// A NotFound is expected only from ContainerStatus or PodSandboxStatus on an
// ID whose removal the churn had already sent when the answer came; it is
// counted apart. Every other non-OK answer is an error.
#pragma once

#include <atomic>

#include "tests/bench/load/kubelet_pods.h"
#include "tests/bench/load/rpc_tally.h"

namespace crius::bench::load {

struct ChurnOptions {
  int pods = 50, rpcs = 1000, clients = 8, parallel = 5, pod_interval_ms = 1000;
};

struct ChurnResult {
  RpcTally rpcs;   // the fast calls
  RpcTally steps;  // the churn's own calls, and cgroups it could not remove
  double seconds = 0;
  std::atomic<int> pods_started{0};
  int errors() const { return rpcs.errors() + steps.errors(); }
};

void run_churn(const KubeletPods& pods, const ChurnOptions& o, ChurnResult& out);

}  // namespace crius::bench::load
