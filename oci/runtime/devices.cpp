#include "oci/runtime/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "base/error.h"
#include "oci/runtime/mounts.h"

namespace crius::oci::runtime {
namespace {

// Strings are built, then moved in: GCC 12 at -O3 reports a false
// -Wrestrict overlap for assignments from string literals here.
Device dev(std::string path, int64_t major, int64_t minor) {
  Device d;
  d.type = std::string(1, 'c');
  d.path = std::move(path);
  d.major = major;
  d.minor = minor;
  d.file_mode = 0666;
  d.uid = 0;
  d.gid = 0;
  return d;
}

void split(const std::string& path, std::string& dir, std::string& base) {
  auto slash = path.find_last_of('/');
  dir = slash == 0 ? "/" : path.substr(0, slash);
  base = path.substr(slash + 1);
}

}  // namespace

const std::vector<Device>& default_devices() {
  static const std::vector<Device> d = {dev("/dev/null", 1, 3),    dev("/dev/zero", 1, 5),
                                        dev("/dev/full", 1, 7),    dev("/dev/random", 1, 8),
                                        dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
  return d;
}

void create_device(int root, const Device& d, bool bind_from_host) {
  std::string dir, base;
  split(d.path, dir, base);
  if (base.empty() || base == "." || base == "..") throw InvalidArgument("device path " + d.path + " is invalid");
  Fd parent = mkdir_in_root(root, dir);
  if (bind_from_host) {
    Fd f = mkfile_in_root(root, d.path);
    if (::mount(d.path.c_str(), fd_path(f.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
      throw_errno("device " + d.path + ": bind from the host");
    return;
  }
  mode_t type = 0;
  if (d.type == "c" || d.type == "u") type = S_IFCHR;
  else if (d.type == "b") type = S_IFBLK;
  else type = S_IFIFO;
  // An existing node (from the image) is replaced by the one the spec asks for.
  if (::unlinkat(parent.get(), base.c_str(), 0) != 0 && errno != ENOENT && errno != EISDIR)
    throw_errno("device " + d.path + ": remove existing");
  const mode_t perm = d.file_mode.value_or(0666) & 07777;
  if (::mknodat(parent.get(), base.c_str(), type | perm,
                makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor))) != 0)
    throw_errno("device " + d.path + ": mknod");
  // O_PATH descriptors allow fchownat/fchmodat through /proc/self/fd.
  Fd node(::openat(parent.get(), base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!node) throw_errno("device " + d.path + ": open");
  const std::string p = fd_path(node.get());
  if (::chmod(p.c_str(), perm) != 0) throw_errno("device " + d.path + ": chmod");
  if (::chown(p.c_str(), d.uid.value_or(0), d.gid.value_or(0)) != 0) throw_errno("device " + d.path + ": chown");
}

void create_dev_links(int root) {
  Fd dev = mkdir_in_root(root, "/dev");
  struct Link {
    const char* target;
    const char* name;
  };
  const Link links[] = {{"/proc/self/fd", "fd"},
                        {"/proc/self/fd/0", "stdin"},
                        {"/proc/self/fd/1", "stdout"},
                        {"/proc/self/fd/2", "stderr"},
                        {"pts/ptmx", "ptmx"}};
  for (const auto& l : links) {
    if (std::string(l.name) == "ptmx") (void)::unlinkat(dev.get(), l.name, 0);
    if (::symlinkat(l.target, dev.get(), l.name) != 0 && errno != EEXIST)
      throw_errno(std::string("symlink /dev/") + l.name);
  }
  struct stat st;
  if (::stat("/proc/kcore", &st) == 0) (void)::symlinkat("/proc/kcore", dev.get(), "core");
}

}  // namespace crius::oci::runtime
