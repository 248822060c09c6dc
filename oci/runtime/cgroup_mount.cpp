#include "oci/runtime/cgroup_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/mountinfo.h"
#include "base/strings.h"
#include "oci/cgroups/hierarchy.h"

namespace crius::oci::runtime {

void mount_cgroup(int root, const std::string& dest, const MountOptions& o) {
  const unsigned long flags = o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME | MS_NOATIME);
  auto mounts = read_mountinfo();
  bool pure_v2 = false;
  for (const auto& m : mounts)
    if (m.mount_point == "/sys/fs/cgroup" && m.fs_type == "cgroup2") pure_v2 = true;
  Fd d = mkdir_in_root(root, dest);
  std::string target = fd_path(d.get());
  if (pure_v2) {
    if (::mount("cgroup2", target.c_str(), "cgroup2", flags, nullptr) != 0)
      throw_errno("mount " + dest + ": mount cgroup2");
    finish_mount(root, dest, o, false);
    return;
  }
  if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") != 0)
    throw_errno("mount " + dest + ": mount tmpfs for cgroup hierarchies");
  // "memory" → the runtime's own cgroup in that hierarchy; "" keys the v2 one.
  const auto own = cgroups::proc_cgroup_paths();
  for (const auto& m : mounts) {
    if (m.fs_type != "cgroup" && m.fs_type != "cgroup2") continue;
    if (!m.mount_point.starts_with("/sys/fs/cgroup/")) continue;
    std::string name = m.mount_point.substr(sizeof("/sys/fs/cgroup/") - 1);
    if (name.empty() || name.find('/') != std::string::npos) continue;
    std::string key;
    if (m.fs_type == "cgroup")
      for (const auto& opt : split(m.super_options, ','))
        if (opt != "rw" && opt != "ro" && own.count(opt)) key = opt;
    const auto it = own.find(key);
    std::string sub = it != own.end() ? it->second : "/";
    // Paths in /proc/self/cgroup are relative to the mount's root.
    if (m.root != "/" && sub.starts_with(m.root)) sub = sub.substr(m.root.size());
    std::string source = m.mount_point + (sub == "/" ? "" : sub);
    const std::string child = dest + "/" + name;
    Fd cd = mkdir_in_root(root, child);
    std::string ct = fd_path(cd.get());
    if (::mount(source.c_str(), ct.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      throw_errno("mount " + child + ": bind " + source);
    Fd again(open_in_root(root, child, O_PATH));
    if (!again) throw_errno("mount " + child + ": reopen");
    std::string at = fd_path(again.get());
    if (::mount("", at.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr) != 0)
      throw_errno("mount " + child + ": remount");
  }
  // Combined hierarchies (cpu,cpuacct) get a link per controller.
  for (const auto& m : mounts) {
    if (m.fs_type != "cgroup" || !m.mount_point.starts_with("/sys/fs/cgroup/")) continue;
    std::string name = m.mount_point.substr(sizeof("/sys/fs/cgroup/") - 1);
    if (name.find(',') == std::string::npos) continue;
    for (const auto& part : split(name, ',')) {
      Fd dir(open_in_root(root, dest, O_PATH | O_DIRECTORY));
      if (dir) (void)::symlinkat(name.c_str(), dir.get(), part.c_str());
    }
  }
  if (flags & MS_RDONLY) {
    Fd again(open_in_root(root, dest, O_PATH));
    if (!again) throw_errno("mount " + dest + ": reopen");
    std::string at = fd_path(again.get());
    if (::mount("", at.c_str(), nullptr, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=755") != 0)
      throw_errno("mount " + dest + ": remount read-only");
  }
  MountOptions rest = o;
  rest.flags = 0;
  finish_mount(root, dest, rest, false);
}

}  // namespace crius::oci::runtime
