// The container's mounts: the usual kernel filesystems, the pod's files and
// the CRI mounts kubelet asks for, parents before children.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/error.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json mount(const std::string& dst, const std::string& type, const std::string& src, std::vector<std::string> opts) {
  return {{"destination", dst}, {"type", type}, {"source", src}, {"options", std::move(opts)}};
}

json bind_mount(const std::string& dst, const std::string& src, bool ro) {
  return mount(dst, "bind", src, {"rbind", "rprivate", ro ? "ro" : "rw"});
}

std::string clean(const std::string& p) {
  std::string s = fs::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

size_t depth(const std::string& p) {
  if (p == "/") return 0;
  return static_cast<size_t>(std::count(p.begin(), p.end(), '/'));
}

std::string propagation_option(::runtime::v1::MountPropagation p) {
  switch (p) {
    case ::runtime::v1::PROPAGATION_HOST_TO_CONTAINER: return "rslave";
    case ::runtime::v1::PROPAGATION_BIDIRECTIONAL: return "rshared";
    default: return "rprivate";
  }
}

bool is_path_under(const std::string& path, const std::string& mnt) {
  if (mnt == "/") return true;
  return path == mnt || (path.starts_with(mnt) && path.size() > mnt.size() && path[mnt.size()] == '/');
}

// A CRI host path: a symlink is followed (the CRI leaves that to the
// runtime); a missing path is created as a directory, as kubelet expects.
std::string host_source(const std::string& host_path, const std::string& field) {
  if (host_path.empty() || host_path[0] != '/')
    throw InvalidArgument(field + ".host_path \"" + host_path + "\": must be an absolute path");
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(host_path, ec))) {
    fs::create_directories(host_path, ec);
    if (ec) throw InvalidArgument(field + ".host_path \"" + host_path + "\": creating it: " + ec.message());
    log::info("created missing mount source directory", {{"path", host_path}});
  }
  auto real = fs::canonical(host_path, ec);
  if (ec) throw InvalidArgument(field + ".host_path \"" + host_path + "\": resolving it: " + ec.message());
  return real.string();
}

// A bind mount of a pod with a user namespace is idmapped with the pod's
// maps, as containerd and cri-o do for kubelet's volumes: an ID on disk is
// the same ID inside the container (a file of the node's root is the pod's
// root's, fsGroup and runAsUser files need no chown), and what the pod's root
// writes is stored as ID 0. The runtime makes it from the host (so the
// sources need not be reachable by the pod's root). "ridmap" keeps an rbind's
// submounts and maps them too.
json idmapped(json m, const std::vector<oci::IdMapping>& uids, const std::vector<oci::IdMapping>& gids,
              bool recursive) {
  if (uids.empty()) return m;
  m["options"].push_back(recursive ? "ridmap" : "idmap");
  m["uidMappings"] = id_mappings_json(uids);
  m["gidMappings"] = id_mappings_json(gids);
  return m;
}

json pod_bind(const std::string& dst, const std::string& src, bool ro, const PodContext& pod) {
  return idmapped(bind_mount(dst, src, ro), pod.uid_mappings, pod.gid_mappings, false);
}

std::vector<oci::IdMapping> cri_mappings(const google::protobuf::RepeatedPtrField<::runtime::v1::IDMapping>& in,
                                             const std::string& field) {
  std::vector<oci::IdMapping> out;
  for (const auto& m : in) {
    if (m.length() == 0)
      throw InvalidArgument(field + "[" + std::to_string(out.size()) + "].length: must not be 0");
    out.push_back({m.container_id(), m.host_id(), m.length()});
  }
  return out;
}

// A CRI mount option (kubelet sends noexec, nodev, nosuid): only the flags a
// bind mount can carry per mount point. Options that would change what is
// mounted or its propagation have their own CRI fields, so they are refused.
const std::string& bind_flag_option(const std::string& option, const std::string& field) {
  static const std::set<std::string> flags{"nosuid", "suid",     "nodev",      "dev",         "noexec",
                                           "exec",   "noatime",  "atime",      "relatime",    "norelatime",
                                           "strictatime", "nostrictatime", "nodiratime", "diratime", "ro"};
  if (!flags.count(option))
    throw InvalidArgument(field + " \"" + option +
                          "\": not a bind mount flag (nosuid, nodev, noexec, ro and the atime options are)");
  return option;
}

}  // namespace

json id_mappings_json(const std::vector<oci::IdMapping>& maps) {
  json out = json::array();
  for (const auto& m : maps) out.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  return out;
}

std::string mount_propagation_of(const std::string& path) {
  const MountInfo* best = nullptr;
  const auto mounts = read_mountinfo();
  for (const auto& m : mounts) {
    // The deepest mount point wins; among equals the later one is on top.
    if (is_path_under(path, m.mount_point) && (!best || m.mount_point.size() >= best->mount_point.size()))
      best = &m;
  }
  return best ? best->propagation() : "private";
}

MountsResult build_mounts(const ::runtime::v1::ContainerConfig& config, const ::runtime::v1::PodSandboxConfig&,
                          const PodContext& pod, bool privileged, bool host_ipc) {
  MountsResult r;
  const auto& sc = config.linux().security_context();
  const bool ro_root = sc.readonly_rootfs();

  // CRI mounts first, so that the defaults they cover can be left out.
  std::vector<json> cri;
  std::set<std::string> cri_dsts;
  bool want_rslave = false, want_rshared = false;
  for (int i = 0; i < config.mounts_size(); ++i) {
    const auto& m = config.mounts(i);
    const std::string field = "mounts[" + std::to_string(i) + "]";
    if (m.container_path().empty() || m.container_path()[0] != '/')
      throw InvalidArgument(field + ".container_path \"" + m.container_path() + "\": must be an absolute path");
    // An image volume is read-only whatever the mount says (the daemon
    // refuses readonly: false before it mounts the image).
    const bool image_volume = !m.image().image().empty();
    const bool readonly = m.readonly() || image_volume;
    // The CRI requires readonly: true and private propagation with
    // recursive_read_only. Checked before the host path is looked at (and
    // perhaps created), so that a refusal leaves nothing behind.
    if (m.recursive_read_only()) {
      const std::string rro = field + ".recursive_read_only (" + m.container_path() + ")";
      if (!readonly) throw InvalidArgument(rro + ": needs " + field + ".readonly: true");
      if (m.propagation() != ::runtime::v1::PROPAGATION_PRIVATE) {
        std::string name = ::runtime::v1::MountPropagation_Name(m.propagation());
        if (name.empty()) name = std::to_string(static_cast<int>(m.propagation()));
        throw InvalidArgument(rro + ": needs " + field + ".propagation PROPAGATION_PRIVATE, not " + name);
      }
    }
    // The mount's own maps (both or neither), else the pod's user namespace's.
    if ((m.uidmappings_size() > 0) != (m.gidmappings_size() > 0))
      throw InvalidArgument(field + ": uidMappings and gidMappings must be given together");
    std::vector<oci::IdMapping> uids = cri_mappings(m.uidmappings(), field + ".uidMappings");
    std::vector<oci::IdMapping> gids = cri_mappings(m.gidmappings(), field + ".gidMappings");
    if (uids.empty()) {
      uids = pod.uid_mappings;
      gids = pod.gid_mappings;
    }
    // An image volume is an overlay, which cannot be idmapped (its layers
    // could, as the root filesystem's are: not done yet).
    if (image_volume && !uids.empty())
      throw Unimplemented(field + ": image volume \"" + m.image().image() +
                          "\" in a pod with a user namespace (or with idmapped mappings) is not supported yet");
    const std::string dst = clean(m.container_path());
    std::string src;
    if (image_volume) {
      // The daemon mounted the image (read-only) before building the spec.
      auto it = pod.image_volumes.find(i);
      if (it == pod.image_volumes.end())
        throw Internal(field + ": image volume \"" + m.image().image() + "\" was not mounted");
      src = it->second;
    } else {
      src = host_source(m.host_path(), field);
    }
    std::vector<std::string> opts{"rbind"};
    const auto prop = m.propagation();
    opts.push_back(propagation_option(prop));
    if (m.recursive_read_only()) {
      opts.push_back("rro");  // checked above: read-only and private
    } else {
      opts.push_back(readonly ? "ro" : "rw");
    }
    for (int j = 0; j < m.mount_options_size(); ++j)
      opts.push_back(bind_flag_option(m.mount_options(j), field + ".mount_options[" + std::to_string(j) + "]"));
    if (prop == ::runtime::v1::PROPAGATION_HOST_TO_CONTAINER) {
      const std::string hp = mount_propagation_of(src);
      if (hp != "shared" && hp != "slave")
        throw FailedPrecondition(field + " (" + dst + "): host-to-container propagation needs " + src +
                                 " on a shared or slave mount; it is " + hp);
      want_rslave = true;
    } else if (prop == ::runtime::v1::PROPAGATION_BIDIRECTIONAL) {
      const std::string hp = mount_propagation_of(src);
      if (hp != "shared")
        throw FailedPrecondition(field + " (" + dst + "): bidirectional propagation needs " + src +
                                 " on a shared mount; it is " + hp);
      want_rshared = true;
    }
    cri_dsts.insert(dst);
    cri.push_back(idmapped(mount(dst, "bind", src, std::move(opts)), uids, gids, true));
  }
  if (want_rshared) r.rootfs_propagation = "rshared";
  else if (want_rslave) r.rootfs_propagation = "rslave";

  std::vector<json> all;
  auto add_default = [&](json m) {
    if (!cri_dsts.count(m["destination"].get<std::string>())) all.push_back(std::move(m));
  };
  add_default(mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  add_default(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  add_default(mount("/dev/pts", "devpts", "devpts",
                    {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  add_default(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  add_default(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", privileged ? "rw" : "ro"}));
  // In the container's own cgroup namespace this shows its cgroup as the root.
  add_default(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                    {"nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"}));
  if (!pod.shm_path.empty()) {
    add_default(idmapped(mount("/dev/shm", "bind", pod.shm_path, {"rbind", "rprivate", "rw"}), pod.uid_mappings,
                         pod.gid_mappings, false));
  } else if (host_ipc) {
    add_default(mount("/dev/shm", "bind", "/dev/shm", {"rbind", "rprivate", "rw"}));
  } else {
    add_default(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  }
  if (!pod.hostname_path.empty()) add_default(pod_bind("/etc/hostname", pod.hostname_path, ro_root, pod));
  if (!pod.resolv_conf_path.empty()) add_default(pod_bind("/etc/resolv.conf", pod.resolv_conf_path, ro_root, pod));
  // kubelet mounts its own /etc/hosts for pods not on the host network.
  if (!pod.hosts_path.empty()) add_default(pod_bind("/etc/hosts", pod.hosts_path, ro_root, pod));

  for (auto& m : cri) all.push_back(std::move(m));
  // Parents before children; among equals, the order above.
  std::stable_sort(all.begin(), all.end(), [](const json& a, const json& b) {
    return depth(a["destination"].get<std::string>()) < depth(b["destination"].get<std::string>());
  });
  r.mounts = json(std::move(all));
  return r;
}

}  // namespace crius::oci::cri::detail
