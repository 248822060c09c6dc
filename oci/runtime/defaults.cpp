#include "oci/runtime/defaults.h"

#include <seccomp.h>

#include "base/version.h"
#include "oci/runtime/caps.h"
#include "oci/runtime/mounts.h"
#include "oci/runtime/seccomp.h"
#include "oci/runtime/state.h"

namespace crius::oci::runtime {

nlohmann::ordered_json default_spec() {
  using J = nlohmann::ordered_json;
  const J caps = J::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  J spec;
  spec["ociVersion"] = kOciVersion;
  spec["process"] = {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", J::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true},
  };
  spec["root"] = {{"path", "rootfs"}, {"readonly", true}};
  spec["hostname"] = "crius";
  auto mount = [](const char* dest, const char* type, const char* src, J opts) {
    J m = {{"destination", dest}, {"type", type}, {"source", src}};
    if (!opts.empty()) m["options"] = opts;
    return m;
  };
  spec["mounts"] = J::array({
      mount("/proc", "proc", "proc", J::array()),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });
  spec["linux"] = {
      {"resources", {{"devices", J::array({{{"allow", false}, {"access", "rwm"}}})}}},
      {"namespaces", J::array({{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                               {{"type", "mount"}}})},
      {"maskedPaths", {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                       "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  return spec;
}

nlohmann::ordered_json rootless_spec(nlohmann::ordered_json spec, uint32_t uid, uint32_t gid) {
  using J = nlohmann::ordered_json;
  J& l = spec["linux"];
  J namespaces = J::array();
  for (const auto& n : l["namespaces"])
    if (n.value("type", "") != "network" && n.value("type", "") != "user") namespaces.push_back(n);
  namespaces.push_back({{"type", "user"}});
  l["namespaces"] = namespaces;
  l["uidMappings"] = J::array({{{"containerID", 0}, {"hostID", uid}, {"size", 1}}});
  l["gidMappings"] = J::array({{{"containerID", 0}, {"hostID", gid}, {"size", 1}}});
  l.erase("resources");
  J mounts = J::array();
  for (auto m : spec["mounts"]) {
    if (m.value("destination", "") == "/sys") {
      mounts.push_back({{"destination", "/sys"},
                        {"type", "none"},
                        {"source", "/sys"},
                        {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
      continue;
    }
    if (m.contains("options")) {
      J opts = J::array();
      for (const auto& o : m["options"]) {
        const std::string s = o.get<std::string>();
        if (!s.starts_with("uid=") && !s.starts_with("gid=")) opts.push_back(s);
      }
      m["options"] = opts;
    }
    mounts.push_back(m);
  }
  spec["mounts"] = mounts;
  return spec;
}

nlohmann::ordered_json features() {
  using J = nlohmann::ordered_json;
  J f;
  f["ociVersionMin"] = "1.0.0";
  f["ociVersionMax"] = kOciVersion;
  f["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  f["mountOptions"] = known_mount_options();
  const scmp_version* v = seccomp_version();
  f["linux"] = {
      {"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
      {"capabilities", capability_names()},
      // systemd: transient scopes through systemd's D-Bus API when systemd
      // runs; otherwise the slice:prefix:name form maps to plain directories.
      {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", true}, {"systemdUser", false}, {"rdma", true}}},
      {"seccomp",
       {{"enabled", true},
        {"actions", seccomp_action_names()},
        {"operators", seccomp_operator_names()},
        {"archs", seccomp_arch_names()}}},
      {"apparmor", {{"enabled", true}}},
      {"selinux", {{"enabled", false}}},
      // Idmapped bind mounts: uidMappings/gidMappings, "idmap"/"ridmap" (idmap.h).
      {"mountExtensions", {{"idmap", {{"enabled", true}}}}},
  };
  f["annotations"] = {
      {"io.github.seccomp.libseccomp.version",
       std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro)},
      {"io.crius.runtime.version", CRIUS_VERSION},
  };
  return f;
}

}  // namespace crius::oci::runtime
