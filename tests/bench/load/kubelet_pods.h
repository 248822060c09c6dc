// Pods made for the load bench the way kubelet makes them: kubelet creates
// the pod's cgroup (cgroupfs driver) and its log directory before
// RunPodSandbox and removes both after RemovePodSandbox, so the bench does
// too; whatever the runtime leaves inside the pod's cgroup then keeps it
// from going and is reported. Each call is one CRI step with a deadline.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tests/bench/cri/harness.h"

namespace crius::bench::load {

struct Pod {
  std::string name, id, container;
  std::string cgroup;  // relative to each hierarchy's root
  std::string log_dir;
  v1::PodSandboxConfig config;
};

// The cgroup hierarchies mounted under /sys/fs/cgroup (every v1 controller
// and the named/unified trees, or the one v2 root).
std::vector<std::string> cgroup_hierarchies();

class KubeletPods {
 public:
  KubeletPods(const RunDir& run, CriDaemon& daemon, std::string image);

  CriDaemon& daemon() const { return d_; }
  const RunDir& run() const { return run_; }
  // The cgroup every pod of this daemon goes under (relative to each hierarchy's root).
  std::string cgroup_root() const;

  // A pod named `name`: its config, with its cgroup and log directory made.
  Pod prepare(const std::string& name) const;
  grpc::Status run_pod(Pod& p) const;
  // PodSandboxStatus, as kubelet asks after RunPodSandbox (verbose, so that
  // containerd's netns and shim socket are noted for a crashed run's cleanup).
  grpc::Status pod_status(const Pod& p) const;
  grpc::Status create_container(Pod& p) const;  // one `sleep 3600`
  grpc::Status start_container(const Pod& p) const;
  // Polls ContainerStatus until RUNNING (bounded).
  grpc::Status wait_running(const Pod& p) const;
  grpc::Status stop_container(const Pod& p) const;  // timeout 0: SIGKILL at once
  grpc::Status remove_container(const Pod& p) const;
  grpc::Status stop_pod(const Pod& p) const;
  grpc::Status remove_pod(const Pod& p) const;
  // Removes the pod's cgroup and log directory, as kubelet does after
  // RemovePodSandbox: "" when all went, else what stayed and why.
  std::string release(const Pod& p) const;
  // Best effort after a failure: every teardown step, then release().
  void abandon(const Pod& p) const;

 private:
  const RunDir& run_;
  CriDaemon& d_;
  std::string image_;
  std::vector<std::string> hierarchies_;
};

inline constexpr auto kStepDeadline = std::chrono::seconds(60);

}  // namespace crius::bench::load
