// bench_cri's pods: one `sleep` container of the busybox image in a pod on
// the daemon's bridge network, run and torn down over the CRI as kubelet
// would; and figure 2, pod start, which the rootless figure shares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/cri/figure.h"
#include "tests/bench/cri/harness.h"

namespace crius::bench {

struct Pod {
  std::string id, container;
  v1::PodSandboxConfig config;
};

// A pod of this run (its own cgroup parent and log directory), network and IPC of its own.
v1::PodSandboxConfig pod_config(const RunDir& run, const CriDaemon& d, const std::string& name);
// As kubelet sends a host-network pod: no hostname of its own (runc refuses one without a UTS namespace).
void use_host_network(v1::PodSandboxConfig& config);
grpc::Status run_pod(CriDaemon& d, Pod& p);
// Stops and removes the container (when there is one) and the pod; returns the first failure.
grpc::Status teardown(CriDaemon& d, const Pod& p);
// Notes what containerd keeps of the pod outside the run dir (note_pod_outside_run).
void note_pod(const RunDir& run, CriDaemon& d, const Pod& p);

// Runs a pod with one sleeping container; fills the timings when given.
// On failure, tears down what was made and returns the failing step in `step`.
// `userns_host_id`, when not 0: the pod has a user namespace of its own
// (userns_options POD), 65536 IDs from there, as kubelet sends for hostUsers: false.
grpc::Status start_pod(const RunDir& run, CriDaemon& d, const std::string& name, const std::string& image, Pod& p,
                       std::string& step, double* ms_sandbox = nullptr, double* ms_total = nullptr,
                       uint32_t userns_host_id = 0, bool host_network = false);

// Pod start (RunPodSandbox + CreateContainer + StartContainer until RUNNING),
// RunPodSandbox alone and teardown, n interleaved iterations: three figures
// whose rows are ds[0] and ds[1], titled `title` and two lines under it.
void figure_pod_start(const RunDir& run, const std::vector<CriDaemon*>& ds, const std::string& image, int n,
                      const std::string& title, std::vector<Figure>& out, bool host_network = false);

}  // namespace crius::bench
