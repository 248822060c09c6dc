// The pieces build_spec assembles, one file each; shared by the unit tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/cri/spec_builder.h"

namespace crius::oci::cri::detail {

// process_args.cpp
// Kubernetes' rules: command replaces ENTRYPOINT, args replace CMD.
std::vector<std::string> process_args(const ::runtime::v1::ContainerConfig&, const ImageConfig&);
// Image env, then the config's overriding by name; PATH when missing; HOSTNAME.
std::vector<std::string> process_env(const ::runtime::v1::ContainerConfig&, const ImageConfig&,
                                     const std::string& hostname);
std::string process_cwd(const ::runtime::v1::ContainerConfig&, const ImageConfig&);

// user.cpp
// Reads a file of the image at `rel` (e.g. "etc/passwd") with every path
// component resolved inside `rootfs`. nullopt when it does not exist.
std::optional<std::string> read_in_root(const std::string& rootfs, const std::string& rel);
ResolvedUser resolve_user(const ::runtime::v1::LinuxContainerSecurityContext&, const ImageConfig&,
                          const std::string& rootfs);

// capabilities.cpp
// "CAP_X" for "X", "x", "CAP_X"; nullopt when unknown.
std::optional<std::string> cap_name(const std::string& name);
std::vector<std::string> all_capabilities();  // every capability the kernel knows
std::vector<std::string> container_capabilities(const ::runtime::v1::Capability&, const Defaults&);

// mounts.cpp
struct MountsResult {
  nlohmann::json mounts = nlohmann::json::array();
  std::string rootfs_propagation;  // "" or rslave / rshared
};
MountsResult build_mounts(const ::runtime::v1::ContainerConfig&, const ::runtime::v1::PodSandboxConfig&,
                          const PodContext&, bool privileged, bool host_ipc);
// [{containerID, hostID, size}…] as linux.uidMappings and a mount's uidMappings take them.
nlohmann::json id_mappings_json(const std::vector<oci::IdMapping>&);
// mountinfo's optional fields of the mount holding `path`: "shared", "slave" or "private".
std::string mount_propagation_of(const std::string& path);

// devices.cpp
struct DevicesResult {
  nlohmann::json devices = nlohmann::json::array();        // linux.devices
  nlohmann::json cgroup_rules = nlohmann::json::array();   // linux.resources.devices (allow rules)
};
DevicesResult cri_devices(const ::runtime::v1::ContainerConfig&);
DevicesResult host_devices();  // privileged: every device node under /dev
nlohmann::json default_device_rules();  // deny all, then the usual allowed set

// security.cpp
const std::vector<std::string>& default_masked_paths();
const std::vector<std::string>& default_readonly_paths();
std::string apparmor_profile(const ::runtime::v1::LinuxContainerSecurityContext&, const Defaults&, bool privileged);

// seccomp_default.cpp: the built-in RuntimeDefault profile for these caps.
nlohmann::json default_seccomp(const std::vector<std::string>& caps);
// The seccomp architectures a native process and its compat modes use.
std::vector<std::string> native_seccomp_arches();
// seccomp_profile.cpp: the linux.seccomp object (or null for none).
nlohmann::json seccomp_for(const ::runtime::v1::LinuxContainerSecurityContext&, const Defaults&,
                           const std::vector<std::string>& caps, bool privileged);
// A profile file in the OCI or Docker format, converted to linux.seccomp.
nlohmann::json seccomp_from_profile(const nlohmann::json& profile, const std::vector<std::string>& caps,
                                    const std::string& source);

// resources.cpp: linux.resources (without devices) and process.oomScoreAdj.
nlohmann::json resources(const ::runtime::v1::LinuxContainerResources&, const Defaults&);
std::optional<int> oom_score_adj(const ::runtime::v1::LinuxContainerResources&, const Defaults&);

// annotations.cpp
std::map<std::string, std::string> annotations(const std::string& id, const ::runtime::v1::ContainerConfig&,
                                               const ::runtime::v1::PodSandboxConfig&, const PodContext&);
std::string cgroups_path(const std::string& id, const PodContext&, const Defaults&);
std::string log_path(const ::runtime::v1::ContainerConfig&, const ::runtime::v1::PodSandboxConfig&);

// signals.cpp
// "SIGTERM", "TERM", "15" -> 15, and the CRI enum's "SIGRTMINPLUS3" (see
// runtime::parse_signal); throws InvalidArgument naming `what`.
int signal_number(const std::string& name, const std::string& what);

}  // namespace crius::oci::cri::detail
