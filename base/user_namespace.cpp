#include "base/user_namespace.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <sstream>

#include "base/fd.h"
#include "base/file.h"

namespace crius {

bool is_restricted_uid_map(const std::string& uid_map) {
  std::istringstream in(uid_map);
  unsigned long inner = 0, outer = 0, count = 0;
  if (!(in >> inner >> outer >> count)) return true;  // an empty map: nothing is mapped
  std::string more;
  return inner != 0 || outer != 0 || count != 4294967295UL || (in >> more);
}

bool in_user_namespace() {
  static const bool restricted = [] {
    const auto map = read_file_if_exists("/proc/self/uid_map");
    return map && is_restricted_uid_map(*map);
  }();
  return restricted;
}

bool owns_network_namespace() {
  const Fd net(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!net) return false;
  const Fd owner(::ioctl(net.get(), NS_GET_USERNS));
  struct stat a, b;
  if (!owner || ::fstat(owner.get(), &a) != 0 || ::stat("/proc/thread-self/ns/user", &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace crius
