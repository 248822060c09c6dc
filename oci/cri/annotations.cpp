// Annotations, the cgroup path and the log path of a container.
#include <filesystem>

#include "base/error.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {

// The keys containerd's CRI plugin writes, which tools (crictl, NRI plugins,
// runtimes like gVisor and Kata) read.
std::map<std::string, std::string> annotations(const std::string& id, const ::runtime::v1::ContainerConfig& config,
                                               const ::runtime::v1::PodSandboxConfig& pod_config, const PodContext& pod) {
  (void)id;
  std::map<std::string, std::string> a(config.annotations().begin(), config.annotations().end());
  a["io.kubernetes.cri.container-type"] = "container";
  a["io.kubernetes.cri.container-name"] = config.metadata().name();
  a["io.kubernetes.cri.sandbox-id"] = pod.pod_id;
  a["io.kubernetes.cri.sandbox-name"] = pod_config.metadata().name();
  a["io.kubernetes.cri.sandbox-namespace"] = pod_config.metadata().namespace_();
  a["io.kubernetes.cri.sandbox-uid"] = pod_config.metadata().uid();
  a["io.kubernetes.cri.image-name"] =
      config.image().user_specified_image().empty() ? config.image().image() : config.image().user_specified_image();
  return a;
}

std::string cgroups_path(const std::string& id, const PodContext& pod, const Defaults& d) {
  if (d.cgroup_driver == "systemd") {
    // runc's "slice:prefix:name" form: the unit is crius-<id>.scope in the slice.
    std::string slice = pod.cgroup_parent.empty() ? "system.slice" : pod.cgroup_parent;
    if (slice.find('/') != std::string::npos)
      throw InvalidArgument("cgroup_parent \"" + pod.cgroup_parent + "\": the systemd driver expects a slice name");
    return slice + ":crius:" + id;
  }
  if (d.cgroup_driver != "cgroupfs") throw InvalidArgument("unknown cgroup driver \"" + d.cgroup_driver + "\"");
  std::string parent = pod.cgroup_parent;
  while (!parent.empty() && parent.back() == '/') parent.pop_back();
  if (!parent.empty() && parent[0] != '/') parent = "/" + parent;
  return parent + "/crius-" + id;
}

std::string log_path(const ::runtime::v1::ContainerConfig& config, const ::runtime::v1::PodSandboxConfig& pod_config) {
  if (config.log_path().empty() || pod_config.log_directory().empty()) return "";
  const std::filesystem::path rel(config.log_path());
  if (rel.is_absolute())
    throw InvalidArgument("log_path \"" + config.log_path() + "\": must be relative to the pod's log_directory");
  for (const auto& part : rel)
    if (part == "..") throw InvalidArgument("log_path \"" + config.log_path() + "\": must not contain \"..\"");
  return (std::filesystem::path(pod_config.log_directory()) / rel).lexically_normal().string();
}

}  // namespace crius::oci::cri::detail
