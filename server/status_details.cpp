#include "server/status_details.h"

#include "base/error.h"
#include "base/mountinfo.h"
#include "cni/config.h"
#include "oci/cgroups/hierarchy.h"

namespace crius::server {
namespace {

// v1 hosts (and hybrid ones, whose unified mount carries no controllers)
// are shown through the memory controller, where resources are accounted.
bool use_unified(const oci::cgroups::Hierarchy& h) {
  return !h.unified.empty() && (h.v2_only() || !h.has_v1("memory"));
}

}  // namespace

std::string process_cgroup_dir(int pid) {
  if (pid <= 0) return "";
  const auto& h = oci::cgroups::Hierarchy::host();
  try {
    const auto paths = oci::cgroups::proc_cgroup_paths(std::to_string(pid));
    if (use_unified(h)) {
      if (auto it = paths.find(""); it != paths.end()) return h.unified + it->second;
    } else if (auto it = paths.find("memory"); it != paths.end()) {
      return h.v1.at("memory") + it->second;
    }
  } catch (const std::exception&) {
    // The process is gone.
  }
  return "";
}

std::string cgroup_dir(const std::string& path_in_hierarchy) {
  if (path_in_hierarchy.empty()) return "";
  const auto& h = oci::cgroups::Hierarchy::host();
  std::string path = path_in_hierarchy.front() == '/' ? path_in_hierarchy : "/" + path_in_hierarchy;
  if (use_unified(h)) return h.unified + path;
  if (h.has_v1("memory")) return h.v1.at("memory") + path;
  return "";
}

nlohmann::json mount_at(const std::string& target) {
  if (target.empty()) return nullptr;
  nlohmann::json found = nullptr;
  // The last mount on a point is the one visible there.
  for (const auto& m : read_mountinfo())
    if (m.mount_point == target)
      found = {{"target", m.mount_point}, {"type", m.fs_type}, {"source", m.source}, {"options", m.options},
               {"superOptions", m.super_options}};
  return found;
}

void add_container_details(const container::Record& r, const sandbox::Record* pod, int monitor_pid,
                           nlohmann::json& info) {
  const bool live = r.state == container::State::created || r.state == container::State::running;
  info["monitorPid"] = monitor_pid;
  info["cgroupPath"] = live ? process_cgroup_dir(r.pid) : "";
  info["rootfsMount"] = mount_at(r.rootfs);
  info["podNamespaces"] = pod ? nlohmann::json(pod->namespaces) : nlohmann::json::object();
}

void add_pod_details(const sandbox::Record& r, int monitor_pid, nlohmann::json& info) {
  info["monitorPid"] = monitor_pid;
  info["cgroupPath"] = cgroup_dir(r.cgroup_parent);
}

nlohmann::json cgroup_summary(const conf::Config& config) {
  const auto& h = oci::cgroups::Hierarchy::host();
  return {{"driver", config.cgroup_driver},
          {"hierarchy", oci::cgroups::mode_name(h.mode)},
          {"unifiedMount", h.unified},
          {"v2Controllers", h.v2_controllers}};
}

nlohmann::json cni_summary(const conf::NetworkConfig& config) {
  // Read again here (verbose only): the Status path keeps its cached readiness.
  const cni::Loaded l = cni::load_first(config.cni_config_dir);
  nlohmann::json out = {{"configDir", config.cni_config_dir}, {"pluginDirs", config.cni_plugin_dirs}};
  if (!l.network) {
    out["network"] = "";
    out["problem"] = l.problem;
    return out;
  }
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& p : l.network->plugins) plugins.push_back(p.value("type", ""));
  out["network"] = l.network->name;
  out["file"] = l.network->file;
  out["cniVersion"] = l.network->cni_version;
  out["plugins"] = plugins;
  return out;
}

}  // namespace crius::server
