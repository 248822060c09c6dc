// What verbose Status, ContainerStatus and PodSandboxStatus add for an
// operator (`crius status`, `crictl inspect`): facts read from the host at
// the moment of the call (cgroup directories, the rootfs mount, the cgroup
// hierarchy, the CNI network) or that the daemon tracks (the monitor's pid),
// not kept in any record.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "conf/config.h"
#include "container/record.h"
#include "sandbox/record.h"

namespace crius::server {

// The cgroup directory of a live process (the unified one on a cgroup v2
// host, else its v1 memory controller's), "" when it is gone.
std::string process_cgroup_dir(int pid);

// The directory of a path inside the cgroup hierarchies (as a pod record's
// cgroup_parent is kept), chosen as process_cgroup_dir chooses; "" for "".
std::string cgroup_dir(const std::string& path_in_hierarchy);

// The mount at `target` in the daemon's mount namespace: {target, type,
// source, options}; null when nothing is mounted there.
nlohmann::json mount_at(const std::string& target);

// Keys added to a container's verbose info: monitorPid (that of its pod's
// monitor, 0 when none lives), cgroupPath, rootfsMount and podNamespaces
// (the pinned namespaces of `pod`, when known).
void add_container_details(const container::Record& r, const sandbox::Record* pod, int monitor_pid,
                           nlohmann::json& info);

// Keys added to a pod's verbose info: monitorPid and cgroupPath.
void add_pod_details(const sandbox::Record& r, int monitor_pid, nlohmann::json& info);

// Status' verbose "cgroup": {driver, hierarchy (v1, v2 or hybrid), unifiedMount, v2Controllers}.
nlohmann::json cgroup_summary(const conf::Config& config);

// Status' verbose "cni": {configDir, network, file, cniVersion, plugins, problem}
// of the config the next pod would use.
nlohmann::json cni_summary(const conf::NetworkConfig& config);

}  // namespace crius::server
