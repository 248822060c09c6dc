#include "container/pod_context.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <google/protobuf/util/json_util.h>

#include "base/error.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/user_namespace.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/runtime/apparmor.h"
#include "sandbox/cgroup.h"

namespace crius::container {
namespace fs = std::filesystem;
namespace v1 = runtime::v1;

namespace {

// The capability bit of CAP_SYS_RESOURCE in /proc/self/status CapEff.
bool has_sys_resource() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("CapEff:")) continue;
    const uint64_t caps = std::stoull(line.substr(7), nullptr, 16);
    return (caps >> 24) & 1;
  }
  return false;
}

int own_oom_score_adj() {
  std::ifstream in("/proc/self/oom_score_adj");
  int v = 0;
  in >> v;
  return v;
}

}  // namespace

v1::PodSandboxConfig pod_sandbox_config(const sandbox::Record& pod) {
  v1::PodSandboxConfig c;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(pod.spec.config.dump(), &c, opts);
  if (!st.ok()) throw Internal("pod sandbox " + pod.id + ": its stored config does not parse: " + std::string(st.message()));
  return c;
}

oci::cri::PodContext pod_context(const sandbox::Record& pod, const v1::ContainerConfig& config,
                                 const std::function<int(const std::string&)>& target_pid) {
  oci::cri::PodContext p;
  p.pod_id = pod.id;
  auto hostname = read_file_if_exists(pod.hostname_path);
  p.hostname = hostname ? trim(*hostname) : pod.spec.hostname;
  for (const auto& [kind, path] : pod.namespaces)
    if (kind != "pid") p.namespaces[kind] = path;
  const auto& ns = config.linux().security_context().namespace_options();
  if (ns.pid() == v1::POD) {
    auto it = pod.namespaces.find("pid");
    if (it == pod.namespaces.end())
      throw InvalidArgument("container asks for the pod's PID namespace, but pod sandbox " + pod.id +
                            " was not created with one (namespace_options.pid = POD)");
    p.pid_ns_path = it->second;
  } else if (ns.pid() == v1::TARGET) {
    if (ns.target_id().empty()) throw InvalidArgument("namespace_options.pid is TARGET but target_id is empty");
    const int pid = target_pid(ns.target_id());
    if (pid <= 0) throw FailedPrecondition("target container " + ns.target_id() + " of pid: TARGET is not running");
    p.pid_ns_path = "/proc/" + std::to_string(pid) + "/ns/pid";
  }
  p.hostname_path = pod.hostname_path;
  p.resolv_conf_path = pod.resolv_conf_path;
  p.hosts_path = pod.hosts_path;
  p.shm_path = pod.shm_path;
  p.cgroup_parent = pod.spec.cgroup_parent;
  if (pod.spec.userns.own()) {
    for (const auto& r : pod.spec.userns.uids) p.uid_mappings.push_back({r.container_id, r.host_id, r.length});
    for (const auto& r : pod.spec.userns.gids) p.gid_mappings.push_back({r.container_id, r.host_id, r.length});
  }
  return p;
}

std::optional<image::Images::RootfsIdmap> rootfs_idmap(const sandbox::Record& pod) {
  const auto user = pod.namespaces.find("user");
  if (user == pod.namespaces.end() || !pod.spec.userns.own()) return std::nullopt;
  // Validated: one range each, mapping container ID 0.
  return image::Images::RootfsIdmap{user->second, pod.spec.userns.uids.at(0).host_id,
                                    pod.spec.userns.gids.at(0).host_id};
}

void open_path_to_rootfs(const std::string& rootfs, const std::string& top) {
  const std::string stop = fs::path(top).lexically_normal().string();
  for (fs::path dir = fs::path(rootfs).lexically_normal().parent_path();
       dir.string() == stop || dir.string().starts_with(stop + "/"); dir = dir.parent_path()) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) throw_errno("looking at " + dir.string());
    if (!(st.st_mode & S_IXOTH) && ::chmod(dir.c_str(), (st.st_mode & 07777) | S_IXOTH) != 0)
      throw_errno("making " + dir.string() + " searchable for the pod's user namespace");
  }
}

std::vector<std::string> pod_cgroup_dirs(const sandbox::Record& pod) {
  std::vector<std::string> out;
  if (pod.cgroup_parent.empty()) return out;
  for (const auto& mount : sandbox::cgroup_mounts()) {
    std::string dir = mount + pod.cgroup_parent;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) out.push_back(dir);
  }
  return out;
}

oci::cri::Defaults spec_defaults(const conf::Config& conf) {
  oci::cri::Defaults d;
  d.default_capabilities = conf.runtime.default_capabilities;
  d.pids_limit = conf.runtime.pids_limit;
  d.cgroup_driver = conf.cgroup_driver;
  // Facts about the daemon and the host that do not change while it runs.
  static const int own_adj = own_oom_score_adj();
  // CAP_SYS_RESOURCE of a user namespace does not reach the host's OOM killer.
  static const bool can_lower = has_sys_resource() && !in_user_namespace();
  static const bool apparmor = oci::runtime::apparmor_enabled();
  d.daemon_oom_score_adj = own_adj;
  d.oom_score_adj_can_lower = can_lower;
  d.apparmor_enabled = apparmor;
  d.cgroups = oci::cgroups::may_create_cgroups();
  return d;
}

oci::cri::ImageConfig image_config_of(const image::ImageRecord& image) {
  oci::cri::ImageConfig c;
  c.entrypoint = image.entrypoint;
  c.cmd = image.cmd;
  c.env = image.env;
  c.user = image.user;
  c.working_dir = image.working_dir;
  c.stop_signal = image.stop_signal;
  return c;
}

std::string image_name_for(const image::ImageRecord& image, const std::string& requested) {
  for (const auto& t : image.repo_tags)
    if (t == requested || (t.size() > requested.size() && t.ends_with(requested) &&
                           t[t.size() - requested.size() - 1] == '/'))
      return t;
  if (!image.repo_tags.empty()) return image.repo_tags.front();
  return requested;
}

nlohmann::json exec_process_for(const Record& rec, const std::vector<std::string>& cmd) {
  auto doc = nlohmann::json::parse(read_file(rec.bundle + "/config.json"));
  nlohmann::json p = doc.value("process", nlohmann::json::object());
  p["args"] = cmd;
  p["terminal"] = false;
  p.erase("consoleSize");
  return p;
}

}  // namespace crius::container
