// UpdatePodSandboxResources: kubelet sends, after an in-place resize, the
// pod's `resources` (the sum of its containers', overhead excluded) and its
// `overhead` (the RuntimeClass's) as two LinuxContainerResources. The pod's
// cgroup, as kubelet sizes it, holds both; these functions say what it gets.
#pragma once

#include <nlohmann/json.hpp>

#include "api/cri.pb.h"

namespace crius::server {

// Checks a request's values, naming the field ("overhead.cpu_quota: …",
// "resources.memory_limit_in_bytes: …"); throws crius::Error (InvalidArgument).
void validate(const ::runtime::v1::UpdatePodSandboxResourcesRequest&);

// The pod cgroup's resources: `resources` with the overhead added to each
// limit the pod has (memory, memory+swap, CPU quota scaled to the pod's
// period) and to its CPU shares. An overhead alone sets no limit (a pod
// without a memory limit keeps none), a quota of -1 stays unlimited, and
// oom_score_adj is left out (the pod cgroup has no process of its own).
::runtime::v1::LinuxContainerResources pod_cgroup_resources(const ::runtime::v1::UpdatePodSandboxResourcesRequest&);

// What the sandbox record keeps of a request: {"overhead", "resources"} in
// proto JSON (field names as in the proto), only those that were sent.
nlohmann::json requested_resources(const ::runtime::v1::UpdatePodSandboxResourcesRequest&);

}  // namespace crius::server
