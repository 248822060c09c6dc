#include "base/self_exe.h"

#include <unistd.h>

#include <climits>

namespace crius {

std::string self_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string sibling_executable(const std::string& name) {
  const std::string dir = self_dir();
  if (dir.empty()) return "";
  const std::string path = dir + "/" + name;
  return ::access(path.c_str(), X_OK) == 0 ? path : "";
}

}  // namespace crius
