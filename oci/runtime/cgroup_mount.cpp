#include "oci/runtime/cgroup_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>

#include "oci/runtime/sys.h"

namespace crius::oci::runtime {
namespace {

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// "memory" → "/process_api/…" from /proc/self/cgroup; "" keys the v2 line.
std::map<std::string, std::string> own_cgroups() {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    std::stringstream ss(ctrls);
    std::string c;
    if (ctrls.empty()) out[""] = path;
    while (std::getline(ss, c, ',')) out[c] = path;
  }
  return out;
}

}  // namespace

std::vector<MountInfo> read_mountinfo(const std::string& path) {
  std::vector<MountInfo> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::vector<std::string> f;
    std::string w;
    while (ss >> w) f.push_back(w);
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 3 > f.size() || f.size() < 5) continue;
    MountInfo m;
    m.root = unescape(f[3]);
    m.mount_point = unescape(f[4]);
    m.fs_type = f[dash + 1];
    m.source = f[dash + 2];
    m.super_options = dash + 3 < f.size() ? f[dash + 3] : "";
    out.push_back(m);
  }
  return out;
}

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
  auto own = own_cgroups();
  for (const auto& m : mounts) {
    if (m.fs_type != "cgroup" && m.fs_type != "cgroup2") continue;
    if (m.mount_point.rfind("/sys/fs/cgroup/", 0) != 0) continue;
    std::string name = m.mount_point.substr(sizeof("/sys/fs/cgroup/") - 1);
    if (name.empty() || name.find('/') != std::string::npos) continue;
    std::string key;
    if (m.fs_type == "cgroup") {
      std::stringstream ss(m.super_options);
      std::string opt;
      while (std::getline(ss, opt, ','))
        if (opt != "rw" && opt != "ro" && own.count(opt)) key = opt;
    }
    std::string sub = own.count(key) ? own[key] : "/";
    // Paths in /proc/self/cgroup are relative to the mount's root.
    if (m.root != "/" && sub.rfind(m.root, 0) == 0) sub = sub.substr(m.root.size());
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
    if (m.fs_type != "cgroup" || m.mount_point.rfind("/sys/fs/cgroup/", 0) != 0) continue;
    std::string name = m.mount_point.substr(sizeof("/sys/fs/cgroup/") - 1);
    if (name.find(',') == std::string::npos) continue;
    std::stringstream ss(name);
    std::string part;
    while (std::getline(ss, part, ',')) {
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
