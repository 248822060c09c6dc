// The CRI PodSandboxMetrics of one pod from the usage container/stats.h
// gathers, as cAdvisor would report the same cgroups (metric_descriptors.h
// names the families). Values are whole units, since kubelet exposes them
// unscaled: CPU time in seconds (truncated), times in Unix seconds, sizes in
// bytes; each sample carries the time it was read.
//
// At the pod level: the pod's cgroup when it has one of its own (a pod
// without a cgroup parent has no cgroup for cAdvisor to see either), and
// the network counters of the pod's namespace, which its containers share.
// Each container: its cgroup while it has one, its writable layer, its
// start time and resource limits.
#pragma once

#include <vector>

#include "api/cri.pb.h"
#include "container/record.h"
#include "container/stats.h"
#include "sandbox/record.h"

namespace crius::server {

// `containers` in the order of usage.containers.
void to_metrics(const sandbox::Record& pod, const std::vector<container::Record>& containers,
                const container::PodUsage& usage, ::runtime::v1::PodSandboxMetrics* out);

}  // namespace crius::server
