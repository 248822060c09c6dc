#include "oci/runtime/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/mountinfo.h"
#include "oci/runtime/devices.h"
#include "oci/runtime/mounts.h"

namespace crius::oci::runtime {
namespace {

// The mount point that holds path (longest matching prefix in mountinfo).
std::string mount_point_of(const std::string& path) {
  std::string best = "/";
  for (const auto& m : read_mountinfo()) {
    const std::string& mp = m.mount_point;
    if (mp.size() > best.size() && path.starts_with(mp) &&
        (path.size() == mp.size() || path[mp.size()] == '/'))
      best = mp;
  }
  return best;
}

unsigned long locked(const char* path) {
  struct statvfs sv;
  if (::statvfs(path, &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  return f;
}

}  // namespace

Fd prepare_rootfs(const Spec& spec, const std::string& rootfs, const std::string& bundle, bool bind_devices,
                  bool shared_ns, const std::vector<int>* mount_fds) {
  const Linux* l = spec.linux_ ? &*spec.linux_ : nullptr;
  // Nothing the container mounts may reach the host: "/" becomes a slave
  // (or what rootfsPropagation says) of the host's mounts.
  unsigned long prop = MS_SLAVE | MS_REC;
  if (l && !l->rootfs_propagation.empty()) prop = propagation_flag(l->rootfs_propagation) | MS_REC;
  if (!shared_ns && ::mount("", "/", nullptr, prop, nullptr) != 0) throw_errno("rootfs: set propagation of /");
  // pivot_root refuses a new root that is shared or whose parent mount is.
  // The rootfs is bound onto itself next, and a bind of a shared mount is
  // shared: so the mount holding the rootfs (the rootfs itself when it is a
  // mount point, as an overlay is) becomes private first, as runc does. The
  // container's own bind mounts keep their propagation (a bidirectional one
  // stays in its host peer group), and "/" gets rootfsPropagation after the
  // pivot (init.cpp).
  if (!shared_ns && (prop & MS_SHARED)) {
    const std::string holder = mount_point_of(rootfs);
    if (::mount("", holder.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
      throw_errno("rootfs: make the mount holding the rootfs (" + holder + ") private");
  }
  if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    throw_errno("rootfs: bind " + rootfs + " onto itself");
  Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("rootfs: open " + rootfs);

  bool dev_is_bind = false;
  const SharedNamespaces shared = shared_namespaces(spec);
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    const int tree = mount_fds && i < mount_fds->size() ? (*mount_fds)[i] : -1;
    mount_in_root(root.get(), m, bundle, tree, shared);
    if (m.destination == "/dev" && (m.type == "bind" || parse_mount_options(m.options).bind())) dev_is_bind = true;
  }
  if (!dev_is_bind) {
    for (const auto& d : default_devices()) create_device(root.get(), d, bind_devices);
    create_dev_links(root.get());
  }
  if (l)
    for (const auto& d : l->devices) create_device(root.get(), d, bind_devices);
  if (spec.process) mkdir_in_root(root.get(), spec.process->cwd);
  return root;
}

void pivot_into(int root) {
  Fd old_root(::open("/", O_DIRECTORY | O_PATH | O_CLOEXEC));
  if (!old_root) throw_errno("pivot_root: open /");
  if (::fchdir(root) != 0) throw_errno("pivot_root: chdir to the rootfs");
  // pivot_root(".", ".") stacks the old root under the new one at "/";
  // it is then made a slave and lazily unmounted from there.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) throw_errno("pivot_root");
  if (::fchdir(old_root.get()) != 0) throw_errno("pivot_root: chdir to the old root");
  if (::mount("", ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) throw_errno("pivot_root: make old root a slave");
  if (::umount2(".", MNT_DETACH) != 0) throw_errno("pivot_root: detach the old root");
  if (::chdir("/") != 0) throw_errno("pivot_root: chdir /");
}

void chroot_into(int root) {
  if (::fchdir(root) != 0) throw_errno("chroot: chdir to the rootfs");
  if (::chroot(".") != 0) throw_errno("chroot into the rootfs");
  if (::chdir("/") != 0) throw_errno("chroot: chdir /");
}

size_t mounts_at(const std::string& path) {
  size_t n = 0;
  for (const auto& m : read_mountinfo())
    if (m.mount_point == path) ++n;
  return n;
}

void detach_rootfs_bind(const std::string& rootfs, size_t before) {
  if (mounts_at(rootfs) <= before) return;
  if (::umount2(rootfs.c_str(), MNT_DETACH) != 0) throw_errno("detach the rootfs bind at " + rootfs);
}

void remount_root_readonly() {
  unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if (::mount("", "/", nullptr, f, nullptr) != 0) {
    if (errno != EPERM || ::mount("", "/", nullptr, f | locked("/"), nullptr) != 0)
      throw_errno("remount the root read-only");
  }
}

void mask_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      throw_errno("mask " + p + ": stat");
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, nullptr) != 0) throw_errno("mask " + p + ": mount tmpfs");
    } else if (::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      throw_errno("mask " + p + ": bind /dev/null");
    }
  }
}

void readonly_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      throw_errno("readonly path " + p + ": bind");
    }
    unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC;
    if (::mount("", p.c_str(), nullptr, f, nullptr) != 0) {
      if (errno != EPERM || ::mount("", p.c_str(), nullptr, f | locked(p.c_str()), nullptr) != 0)
        throw_errno("readonly path " + p + ": remount read-only");
    }
  }
}

}  // namespace crius::oci::runtime
