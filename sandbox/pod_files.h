// The files and mounts a pod hands to its containers: /etc/hostname,
// /etc/resolv.conf and a /dev/shm tmpfs (when the pod has its own IPC).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/mount.h"
#include "sandbox/spec.h"

namespace crius::sandbox {

// Default size of each pod's /dev/shm (runtime.shm_size), as Docker, containerd and cri-o have it.
constexpr uint64_t kShmSizeBytes = 64ull * 1024 * 1024;

// The resolv.conf text for `dns`; empty config means the host's file
// (`host_resolv_conf`) is copied as it is.
std::string resolv_conf_text(const DnsConfig& dns, const std::string& host_resolv_conf = "/etc/resolv.conf");

// The pod's /etc/hosts: loopback names, then each pod IP with the hostname.
std::string hosts_text(const std::string& hostname, const std::vector<std::string>& ips);

// The node's hostname (uname).
std::string node_hostname();

// Mounts a tmpfs for the pod's /dev/shm at `path` (created). Throws naming
// the path. The pod record takes it over with keep(); detach_mount unmounts it.
Mount mount_shm(const std::string& path, uint64_t size_bytes = kShmSizeBytes);

}  // namespace crius::sandbox
