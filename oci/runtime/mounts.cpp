#include "oci/runtime/mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "base/error.h"
#include "base/strings.h"
#include "oci/runtime/cgroup_mount.h"
#include "oci/runtime/copy_tree.h"

namespace crius::oci::runtime {
namespace {

struct FlagOpt {
  unsigned long flag;
  bool clear;
};

const std::map<std::string, FlagOpt>& flag_options() {
  static const std::map<std::string, FlagOpt> m = {
      {"defaults", {0, false}},
      {"ro", {MS_RDONLY, false}},        {"rw", {MS_RDONLY, true}},
      {"nosuid", {MS_NOSUID, false}},    {"suid", {MS_NOSUID, true}},
      {"nodev", {MS_NODEV, false}},      {"dev", {MS_NODEV, true}},
      {"noexec", {MS_NOEXEC, false}},    {"exec", {MS_NOEXEC, true}},
      {"sync", {MS_SYNCHRONOUS, false}}, {"async", {MS_SYNCHRONOUS, true}},
      {"dirsync", {MS_DIRSYNC, false}},  {"remount", {MS_REMOUNT, false}},
      {"mand", {MS_MANDLOCK, false}},    {"nomand", {MS_MANDLOCK, true}},
      {"noatime", {MS_NOATIME, false}},  {"atime", {MS_NOATIME, true}},
      {"nodiratime", {MS_NODIRATIME, false}}, {"diratime", {MS_NODIRATIME, true}},
      {"relatime", {MS_RELATIME, false}},     {"norelatime", {MS_RELATIME, true}},
      {"strictatime", {MS_STRICTATIME, false}}, {"nostrictatime", {MS_STRICTATIME, true}},
      {"lazytime", {MS_LAZYTIME, false}},  {"nolazytime", {MS_LAZYTIME, true}},
      {"silent", {MS_SILENT, false}},      {"loud", {MS_SILENT, true}},
      {"iversion", {MS_I_VERSION, false}}, {"noiversion", {MS_I_VERSION, true}},
      {"nosymfollow", {MS_NOSYMFOLLOW, false}}, {"symfollow", {MS_NOSYMFOLLOW, true}},
      {"bind", {MS_BIND, false}},          {"rbind", {MS_BIND | MS_REC, false}},
  };
  return m;
}

const std::map<std::string, unsigned long>& propagation_options() {
  static const std::map<std::string, unsigned long> m = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  return m;
}

struct AttrOpt {
  uint64_t set, clr;
};

const std::map<std::string, AttrOpt>& recursive_options() {
  static const std::map<std::string, AttrOpt> m = {
      {"rro", {MOUNT_ATTR_RDONLY, 0}},         {"rrw", {0, MOUNT_ATTR_RDONLY}},
      {"rnosuid", {MOUNT_ATTR_NOSUID, 0}},     {"rsuid", {0, MOUNT_ATTR_NOSUID}},
      {"rnodev", {MOUNT_ATTR_NODEV, 0}},       {"rdev", {0, MOUNT_ATTR_NODEV}},
      {"rnoexec", {MOUNT_ATTR_NOEXEC, 0}},     {"rexec", {0, MOUNT_ATTR_NOEXEC}},
      {"rnodiratime", {MOUNT_ATTR_NODIRATIME, 0}}, {"rdiratime", {0, MOUNT_ATTR_NODIRATIME}},
      {"rnosymfollow", {MOUNT_ATTR_NOSYMFOLLOW, 0}}, {"rsymfollow", {0, MOUNT_ATTR_NOSYMFOLLOW}},
      {"rrelatime", {MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME}},
      {"rnorelatime", {0, MOUNT_ATTR_RELATIME}},
      {"rnoatime", {MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME}},
      {"ratime", {0, MOUNT_ATTR_NOATIME}},
      {"rstrictatime", {MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME}},
      {"rnostrictatime", {0, MOUNT_ATTR_STRICTATIME}},
  };
  return m;
}

// Flags that a bind mount only gets through a second, remounting call.
constexpr unsigned long kRemountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_DIRSYNC |
                                        MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
                                        MS_LAZYTIME | MS_NOSYMFOLLOW;

// Mount flags the kernel locks on a mount made in another user namespace;
// a remount must repeat them or fails with EPERM.
unsigned long locked_flags(const std::string& target) {
  struct statvfs sv;
  if (::statvfs(target.c_str(), &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

[[noreturn]] void mount_error(const std::string& dest, const std::string& step, int err) {
  throw_errno("mount " + dest + ": " + step, err);
}

}  // namespace

bool MountOptions::bind() const { return flags & MS_BIND; }

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions o;
  for (const auto& opt : options) {
    if (auto it = flag_options().find(opt); it != flag_options().end()) {
      if (it->second.clear) o.flags &= ~it->second.flag;
      else o.flags |= it->second.flag;
    } else if (auto p = propagation_options().find(opt); p != propagation_options().end()) {
      o.propagation.push_back(p->second);
    } else if (auto r = recursive_options().find(opt); r != recursive_options().end()) {
      o.attr_set = (o.attr_set & ~r->second.clr) | r->second.set;
      o.attr_clr |= r->second.clr;
    } else if (opt == "tmpcopyup") {
      // runc's extension for tmpfs over an image directory: mount_in_root
      // copies what was there into the new tmpfs.
    } else if (opt == "idmap" || opt == "ridmap") {
      // Only meaningful with the detached tree the runtime makes for them
      // (idmap.h); mount_in_root drops them then.
      throw InvalidArgument("mount option \"" + opt + "\" needs an idmapped bind mount prepared by the runtime");
    } else if (opt == "acl" || opt == "noacl") {
      // ACLs are a filesystem default; nothing to pass.
    } else {
      if (!o.data.empty()) o.data += ',';
      o.data += opt;
    }
  }
  return o;
}

std::vector<std::string> known_mount_options() {
  std::vector<std::string> out;
  for (const auto& [k, v] : flag_options()) out.push_back(k);
  for (const auto& [k, v] : propagation_options()) out.push_back(k);
  for (const auto& [k, v] : recursive_options()) out.push_back(k);
  out.push_back("tmpcopyup");
  out.push_back("idmap");
  out.push_back("ridmap");
  std::sort(out.begin(), out.end());
  return out;
}

unsigned long propagation_flag(const std::string& name) {
  auto it = propagation_options().find(name);
  if (it == propagation_options().end()) throw InvalidArgument("unknown propagation \"" + name + "\"");
  return it->second;
}

int open_in_root(int root, const std::string& path, int flags, mode_t mode) {
  return openat2_fd(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, mode).release();
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Fd mkdir_in_root(int root, const std::string& path, mode_t mode) {
  Fd cur(open_in_root(root, "/", O_PATH | O_DIRECTORY));
  if (!cur) throw_errno("open root directory");
  std::string prefix;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    std::string comp = path.substr(pos, next - pos);
    pos = next + 1;
    if (comp.empty() || comp == ".") continue;
    prefix += "/" + comp;
    Fd fd(open_in_root(root, prefix, O_PATH | O_DIRECTORY));
    if (!fd && errno == ENOENT && comp != "..") {
      if (::mkdirat(cur.get(), comp.c_str(), mode) != 0 && errno != EEXIST) throw_errno("mkdir " + prefix);
      fd.reset(open_in_root(root, prefix, O_PATH | O_DIRECTORY));
    }
    if (!fd) throw_errno("open " + prefix + " in the container's root");
    cur = std::move(fd);
  }
  return cur;
}

Fd mkfile_in_root(int root, const std::string& path) {
  Fd fd(open_in_root(root, path, O_PATH));
  if (fd) return fd;
  if (errno != ENOENT) throw_errno("open " + path + " in the container's root");
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "/" : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  Fd parent = mkdir_in_root(root, dir.empty() ? "/" : dir);
  // O_EXCL: never create through a (dangling) symlink.
  Fd created(::openat(parent.get(), base.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
  if (!created && errno != EEXIST) throw_errno("create " + path);
  fd.reset(open_in_root(root, path, O_PATH));
  if (!fd) throw_errno("open " + path + " in the container's root");
  return fd;
}

void finish_mount(int root, const std::string& dest, const MountOptions& o, bool bind) {
  // The fd must name the new mount, so the destination is opened again.
  Fd fd(open_in_root(root, dest, O_PATH));
  if (!fd) mount_error(dest, "reopen", errno);
  const std::string target = fd_path(fd.get());
  if (bind && (o.flags & kRemountFlags)) {
    unsigned long f = MS_BIND | MS_REMOUNT | (o.flags & kRemountFlags);
    if (::mount("", target.c_str(), nullptr, f, nullptr) != 0) {
      if (errno != EPERM) mount_error(dest, "remount", errno);
      if (::mount("", target.c_str(), nullptr, f | locked_flags(target), nullptr) != 0)
        mount_error(dest, "remount", errno);
    }
  }
  for (unsigned long p : o.propagation)
    if (::mount("", target.c_str(), nullptr, p, nullptr) != 0) mount_error(dest, "set propagation", errno);
  if (o.attr_set || o.attr_clr) {
    struct mount_attr attr {};
    attr.attr_set = o.attr_set;
    attr.attr_clr = o.attr_clr;
    if (::mount_setattr(fd.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
      mount_error(dest, "mount_setattr", errno);
  }
}

// The kernel's MQUEUE_MAGIC (ipc/mqueue.c), which no userspace header has.
constexpr decltype(statfs::f_type) kMqueueMagic = 0x19800202;

SharedNamespaces shared_namespaces(const Spec& spec) {
  SharedNamespaces s{true, true};
  if (spec.linux_)
    for (const auto& n : spec.linux_->namespaces) {
      if (n.type == "pid") s.pid = false;
      if (n.type == "ipc") s.ipc = false;
    }
  return s;
}

void mount_in_root(int root, const Mount& m, const std::string& bundle, int tree, SharedNamespaces shared) {
  // idmap/ridmap were honoured by the runtime when it made `tree`.
  std::vector<std::string> options;
  bool copyup = false;
  for (const auto& opt : m.options) {
    if (tree >= 0 && (opt == "idmap" || opt == "ridmap")) continue;
    copyup |= opt == "tmpcopyup";
    options.push_back(opt);
  }
  MountOptions o = parse_mount_options(options);
  const bool bind = o.bind() || m.type == "bind";
  if (bind) o.flags |= MS_BIND;
  if (m.type == "cgroup" && !bind) {
    mount_cgroup(root, m.destination, o);
    return;
  }
  Fd dest;
  std::string source = m.source;
  if (bind) {
    if (source.empty()) throw InvalidArgument("mount " + m.destination + ": bind mount without a source");
    if (source[0] != '/') source = bundle + "/" + source;
    // A prepared tree is looked at by fd: its source may not be reachable
    // from the container's user namespace.
    struct stat st;
    if ((tree >= 0 ? ::fstat(tree, &st) : ::stat(source.c_str(), &st)) != 0)
      mount_error(m.destination, "stat source " + source, errno);
    dest = S_ISDIR(st.st_mode) ? mkdir_in_root(root, m.destination) : mkfile_in_root(root, m.destination);
  } else {
    dest = mkdir_in_root(root, m.destination);
  }
  const std::string target = fd_path(dest.get());
  // What the image has at the destination, read after the tmpfs hides it.
  Fd below;
  if (copyup && m.type == "tmpfs" && !bind) {
    below.reset(open_in_root(root, m.destination, O_RDONLY | O_DIRECTORY));
    if (!below) mount_error(m.destination, "open for tmpcopyup", errno);
  }
  if (tree >= 0) {
    // By fd: the kernel refuses a /proc/self/fd target here (EINVAL).
    if (::move_mount(tree, "", dest.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
      mount_error(m.destination, "move the idmapped mount of " + source, errno);
  } else if (bind) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | (o.flags & MS_REC), nullptr) != 0)
      mount_error(m.destination, "bind " + source, errno);
  } else {
    unsigned long flags = o.flags & ~MS_REC;
    const char* data = o.data.empty() ? nullptr : o.data.c_str();
    int rc = ::mount(source.c_str(), target.c_str(), m.type.c_str(), flags, data);
    // devpts refuses a gid the user namespace does not map (the tty group 5
    // when only root is): without it, as runc does then.
    if (rc != 0 && errno == EINVAL && m.type == "devpts" && o.data.find("gid=") != std::string::npos) {
      std::string without;
      for (const auto& opt : split(o.data, ','))
        if (!opt.starts_with("gid=")) without += (without.empty() ? "" : ",") + opt;
      rc = ::mount(source.c_str(), target.c_str(), m.type.c_str(), flags, without.c_str());
    }
    if (rc != 0) {
      int err = errno;
      // sysfs cannot be mounted fresh in a user namespace without its own
      // network namespace; the host's, read-only, is what runc gives then.
      // The same holds for proc and mqueue of a PID or IPC namespace the
      // user namespace does not own (a rootless pod with host PID or IPC).
      const char* own = m.type == "sysfs"                   ? "/sys"
                        : m.type == "proc" && shared.pid    ? "/proc"
                        : m.type == "mqueue" && shared.ipc  ? "/dev/mqueue"
                                                            : nullptr;
      if (own && err == EPERM) {
        struct statfs sf;
        if (m.type == "mqueue" && (::statfs(own, &sf) != 0 || sf.f_type != kMqueueMagic)) return;
        if (::mount(own, target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
          mount_error(m.destination, std::string("bind ") + own, errno);
        o.flags |= MS_BIND;
        finish_mount(root, m.destination, o, true);
        return;
      }
      mount_error(m.destination, "mount " + m.type + " (options \"" + o.data + "\")", err);
    }
  }
  if (below) {
    Fd top(open_in_root(root, m.destination, O_RDONLY | O_DIRECTORY));
    if (!top) mount_error(m.destination, "open the new tmpfs for tmpcopyup", errno);
    copy_tree(below.get(), top.get(), "tmpcopyup " + m.destination);
  }
  finish_mount(root, m.destination, o, bind);
}

}  // namespace crius::oci::runtime
