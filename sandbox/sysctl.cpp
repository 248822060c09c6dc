#include "sandbox/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/error.h"
#include "base/fd.h"

namespace crius::sandbox {
namespace {

// The dotted form: the slash form's separators become dots.
std::string dotted(const std::string& name) {
  if (name.find('/') == std::string::npos) return name;
  std::string d = name;
  std::replace(d.begin(), d.end(), '/', '.');
  return d;
}

}  // namespace

SysctlNamespace validate_sysctl(const std::string& name, bool host_network, bool host_ipc) {
  const std::string d = dotted(name);
  if (name.empty() || name.find("..") != std::string::npos || name.find('\0') != std::string::npos)
    throw InvalidArgument("sysctl \"" + name + "\": not a valid name");
  if (d.starts_with("net.")) {
    if (host_network) throw InvalidArgument("sysctl " + name + ": not allowed for a pod on the host network");
    return SysctlNamespace::net;
  }
  if (d.starts_with("kernel.shm") || d.starts_with("kernel.msg") || d == "kernel.sem" || d.starts_with("fs.mqueue.")) {
    if (host_ipc) throw InvalidArgument("sysctl " + name + ": not allowed for a pod sharing the host IPC namespace");
    return SysctlNamespace::ipc;
  }
  throw InvalidArgument("sysctl " + name + ": not a namespaced sysctl; a pod may set only net.*, kernel.shm*, "
                        "kernel.msg*, kernel.sem and fs.mqueue.*");
}

std::string sysctl_path(const std::string& name) {
  std::string p = name;
  // With slashes, dots are part of a component (an interface named eth0.100).
  if (name.find('/') == std::string::npos) std::replace(p.begin(), p.end(), '.', '/');
  return "/proc/sys/" + p;
}

void write_sysctl(const std::string& name, const std::string& value) {
  const std::string path = sysctl_path(name);
  const Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) throw InvalidArgument(errno_text("sysctl " + name + ": opening " + path, errno));
  // One write: the kernel parses a sysctl value per write, so a retried
  // remainder would be taken as a value of its own.
  const ssize_t w = ::write(fd.get(), value.data(), value.size());
  if (w != static_cast<ssize_t>(value.size()))
    throw InvalidArgument(errno_text("sysctl " + name + ": writing \"" + value + "\" to " + path, w < 0 ? errno : EIO));
}

}  // namespace crius::sandbox
