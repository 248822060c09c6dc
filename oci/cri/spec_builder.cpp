// build_spec: assembles config.json from the pieces in this folder.
#include "oci/cri/spec_builder.h"

#include "base/error.h"
#include "base/log.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri {
namespace {

using nlohmann::json;
namespace v1 = ::runtime::v1;

// runc 1.1 and crun accept it; the builtin runtime takes 1.0.0 to 1.1.0.
constexpr const char* kSpecVersion = "1.0.2";

json namespaces(const v1::NamespaceOption& ns, const PodContext& pod, bool& new_uts) {
  json out = json::array();
  auto pinned = [&](const std::string& kind) -> std::string {
    auto it = pod.namespaces.find(kind);
    return it == pod.namespaces.end() ? "" : it->second;
  };
  auto join_or_new = [&](const std::string& oci_type, const std::string& path) {
    json n = {{"type", oci_type}};
    if (!path.empty()) n["path"] = path;
    out.push_back(n);
  };
  // A container is in its pod's user namespace, or the node's when the pod
  // has none; kubelet sends the pod's options to each container.
  const bool pod_userns = !pinned("user").empty();
  if (ns.has_userns_options()) {
    const std::string field = "linux.security_context.namespace_options.userns_options.mode";
    switch (ns.userns_options().mode()) {
      case v1::POD:
        if (!pod_userns) throw InvalidArgument(field + " POD: the pod sandbox has no user namespace of its own");
        break;
      case v1::NODE: break;
      default:
        throw InvalidArgument(field + " " + v1::NamespaceMode_Name(ns.userns_options().mode()) +
                              ": a container is in its pod's user namespace (POD) or the node's (NODE)");
    }
  }
  if (pod_userns) join_or_new("user", pinned("user"));

  if (ns.network() != v1::NODE) join_or_new("network", pinned("net"));
  if (ns.ipc() != v1::NODE) join_or_new("ipc", pinned("ipc"));
  // A pod on the host network has the host's UTS namespace too (as kubelet expects).
  new_uts = false;
  if (ns.network() != v1::NODE) {
    const std::string uts = pinned("uts");
    new_uts = uts.empty();
    join_or_new("uts", uts);
  }
  switch (ns.pid()) {
    case v1::NODE: break;
    case v1::CONTAINER: join_or_new("pid", ""); break;
    default: join_or_new("pid", pod.pid_ns_path); break;  // POD, TARGET
  }
  join_or_new("mount", "");
  join_or_new("cgroup", "");
  return out;
}

// The configured stop signal, else the image's, else SIGTERM.
int stop_signal(const v1::ContainerConfig& config, const ImageConfig& image) {
  if (config.stop_signal() != v1::SIGNAL_RUNTIME_DEFAULT) {
    const std::string& name = v1::Signal_Name(config.stop_signal());
    if (name.empty())
      throw InvalidArgument("stop_signal: " + std::to_string(static_cast<int>(config.stop_signal())) +
                            " is not a value of the CRI Signal enum");
    return detail::signal_number(name, "stop_signal");
  }
  if (!image.stop_signal.empty()) return detail::signal_number(image.stop_signal, "image StopSignal");
  return 15;  // SIGTERM
}

}  // namespace

BuiltSpec build_spec(const std::string& id, const v1::ContainerConfig& config, const v1::PodSandboxConfig& pod_config,
                     const ImageConfig& image, const std::string& rootfs, const PodContext& pod,
                     const Defaults& defaults) {
  if (id.empty()) throw InvalidArgument("container id is empty");
  if (config.metadata().name().empty()) throw InvalidArgument("metadata.name: the container has no name");
  const auto& lc = config.linux();
  const auto& sc = lc.security_context();
  const bool privileged = sc.privileged();
  if (privileged && !pod_config.linux().security_context().privileged())
    throw InvalidArgument("container \"" + config.metadata().name() +
                          "\" is privileged but its pod sandbox is not");
  const bool host_ipc = sc.namespace_options().ipc() == v1::NODE;

  BuiltSpec out;
  out.user = detail::resolve_user(sc, image, rootfs);
  out.cgroups_path = detail::cgroups_path(id, pod, defaults);
  out.log_path = detail::log_path(config, pod_config);
  out.stop_signal = stop_signal(config, image);

  json& spec = out.spec;
  spec["ociVersion"] = kSpecVersion;

  // process
  const std::vector<std::string> caps =
      privileged ? detail::all_capabilities() : detail::container_capabilities(sc.capabilities(), defaults);
  json process = {
      {"terminal", config.tty()},
      {"user", {{"uid", out.user.uid}, {"gid", out.user.gid}, {"additionalGids", out.user.supplemental_groups}}},
      {"args", detail::process_args(config, image)},
      {"env", detail::process_env(config, image, pod.hostname)},
      {"cwd", detail::process_cwd(config, image)},
      {"noNewPrivileges", sc.no_new_privs()},
  };
  std::vector<std::string> ambient;
  for (const auto& n : sc.capabilities().add_ambient_capabilities()) {
    auto c = detail::cap_name(n);
    if (!c) throw InvalidArgument("capabilities.add_ambient_capabilities: unknown capability \"" + n + "\"");
    ambient.push_back(*c);
  }
  std::vector<std::string> full = caps;
  for (const auto& a : ambient)
    if (std::find(full.begin(), full.end(), a) == full.end()) full.push_back(a);
  // Ambient capabilities must also be inheritable and permitted.
  process["capabilities"] = {{"bounding", full}, {"effective", full}, {"permitted", full},
                             {"inheritable", ambient}, {"ambient", ambient}};
  if (auto adj = detail::oom_score_adj(lc.resources(), defaults)) process["oomScoreAdj"] = *adj;
  if (auto aa = detail::apparmor_profile(sc, defaults, privileged); !aa.empty()) process["apparmorProfile"] = aa;
  spec["process"] = process;

  spec["root"] = {{"path", rootfs}, {"readonly", sc.readonly_rootfs()}};

  bool new_uts = false;
  json linux = {{"namespaces", namespaces(sc.namespace_options(), pod, new_uts)}};
  if (new_uts && !pod.hostname.empty()) spec["hostname"] = pod.hostname;

  auto mounts = detail::build_mounts(config, pod_config, pod, privileged, host_ipc);
  spec["mounts"] = mounts.mounts;
  if (!mounts.rootfs_propagation.empty()) linux["rootfsPropagation"] = mounts.rootfs_propagation;

  // Devices: the CRI's, or every host device when privileged.
  auto devs = detail::cri_devices(config);
  json device_rules;
  if (privileged) {
    auto host = detail::host_devices();
    json all = host.devices;
    for (auto& d : devs.devices) all.push_back(d);
    devs.devices = all;
    device_rules = host.cgroup_rules;
  } else {
    device_rules = detail::default_device_rules();
    for (auto& r : devs.cgroup_rules) device_rules.push_back(r);
  }
  if (!devs.devices.empty()) linux["devices"] = devs.devices;

  json res = detail::resources(lc.resources(), defaults);
  if (defaults.cgroups) {
    res["devices"] = device_rules;
    linux["resources"] = res;
    linux["cgroupsPath"] = out.cgroups_path;
  } else {
    if (!res.empty())
      log::warn("resource limits are not enforced: crius runs in a user namespace that may not create cgroups",
                {{"container", config.metadata().name()}, {"limits", res.dump()}});
    out.cgroups_path.clear();
  }

  if (!privileged) {
    const bool given = sc.masked_paths_size() > 0 || sc.readonly_paths_size() > 0;
    linux["maskedPaths"] = given ? std::vector<std::string>(sc.masked_paths().begin(), sc.masked_paths().end())
                                 : detail::default_masked_paths();
    linux["readonlyPaths"] = given ? std::vector<std::string>(sc.readonly_paths().begin(), sc.readonly_paths().end())
                                   : detail::default_readonly_paths();
  }
  if (json sec = detail::seccomp_for(sc, defaults, full, privileged); !sec.is_null()) linux["seccomp"] = sec;

  if (pod_config.linux().sysctls_size() > 0) {
    json sysctl = json::object();
    for (const auto& [k, v] : pod_config.linux().sysctls()) sysctl[k] = v;
    linux["sysctl"] = sysctl;
  }
  if (!pod.uid_mappings.empty()) {
    // Joined by path; the maps too, for runtimes that check them against it.
    linux["uidMappings"] = detail::id_mappings_json(pod.uid_mappings);
    linux["gidMappings"] = detail::id_mappings_json(pod.gid_mappings);
  }
  spec["linux"] = linux;
  spec["annotations"] = detail::annotations(id, config, pod_config, pod);
  return out;
}

nlohmann::json linux_resources(const v1::LinuxContainerResources& resources) {
  // No pids or devices: those are fixed at create and an update leaves them.
  return detail::resources(resources, Defaults{});
}

}  // namespace crius::oci::cri
