// The OCI runtime spec (config.json) of a container, from what kubelet sent
// (the CRI ContainerConfig and its pod's PodSandboxConfig), the image's
// config, and what the daemon knows of the pod (namespaces, files, cgroup).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/cri.pb.h"
#include "oci/runtime/spec.h"

namespace crius::oci::cri {

// The parts of the image config a container's spec is built from.
struct ImageConfig {
  std::vector<std::string> entrypoint, cmd, env;
  std::string user;         // as in the image config: "", "1000", "app", "1000:1000", "app:staff"
  std::string working_dir;
  std::string stop_signal;  // "SIGTERM", "15", or empty
};

// The pod a container joins, as the daemon set it up.
struct PodContext {
  std::string pod_id;
  std::string hostname;                      // the pod's hostname
  std::map<std::string, std::string> namespaces;  // pinned namespace paths by kind: "net", "ipc", "uts"
  // PID namespace to join when the container's pid mode is POD (the pause
  // process's /proc/<pid>/ns/pid) or TARGET (the target container's); empty
  // for a new one. Host PID is read from the config itself.
  std::string pid_ns_path;
  std::string hostname_path, resolv_conf_path, shm_path;  // shm_path empty: host IPC
  std::string hosts_path;                    // the pod's /etc/hosts file, may be empty
  std::string cgroup_parent;                 // as kubelet gave it (a path, or a systemd slice name)
  // The pod's own user namespace (pinned at namespaces["user"]): its ID maps
  // ("containerID hostID size" ranges). Empty: the node's. Containers join
  // it, and every bind mount is idmapped with these maps (mounts.cpp).
  std::vector<oci::IdMapping> uid_mappings, gid_mappings;
  // The image volumes made for this container (config.mounts[i] whose
  // image is set), by index: the host directory to bind read-only.
  std::map<int, std::string> image_volumes;
};

struct Defaults {
  std::vector<std::string> default_capabilities;  // "CHOWN"… without the CAP_ prefix, as cri-o's
  int64_t pids_limit = 0;                         // 0: none
  std::string cgroup_driver = "cgroupfs";         // "cgroupfs" or "systemd"
  int daemon_oom_score_adj = 0;                   // lower values are clamped to it (with a log line)
  bool oom_score_adj_can_lower = false;           // CAP_SYS_RESOURCE held
  bool apparmor_enabled = false;
  std::string seccomp_profile_root;               // Localhost profiles are absolute paths; this is the fallback base
  // False in a user namespace that may not create cgroups (rootless without
  // delegation): no cgroupsPath and no linux.resources, the limits logged
  // as not enforced.
  bool cgroups = true;
};

// What the container will run as, after resolving names in the image.
struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> supplemental_groups;
  std::string username;  // when the image's /etc/passwd names the uid
};

struct BuiltSpec {
  nlohmann::json spec;        // config.json
  ResolvedUser user;
  std::string cgroups_path;   // linux.cgroupsPath as written
  std::string log_path;       // the pod's log_directory joined with the container's log_path; may be empty
  int stop_signal = 15;       // from the image, SIGTERM when unset
};

// Builds the spec for container `id` whose rootfs is mounted at `rootfs`
// (the image's /etc/passwd and /etc/group are read from there, without
// following links out of it). Throws crius::Error InvalidArgument naming the
// field for bad input (an unknown capability, a username the image does not
// have, a relative mount path, an unreadable seccomp profile…).
BuiltSpec build_spec(const std::string& id, const ::runtime::v1::ContainerConfig& config,
                     const ::runtime::v1::PodSandboxConfig& pod_config, const ImageConfig& image,
                     const std::string& rootfs, const PodContext& pod, const Defaults& defaults);

// linux.resources of an OCI spec from CRI resources (also what
// UpdateContainerResources applies to a running container).
nlohmann::json linux_resources(const ::runtime::v1::LinuxContainerResources& resources);

}  // namespace crius::oci::cri
