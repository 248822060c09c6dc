#include "image/sub_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/fd.h"

namespace crius::image {

std::string checked_sub_path(const std::string& sub_path, const std::string& field) {
  auto refuse = [&](const std::string& why) {
    return InvalidArgument(field + " \"" + sub_path + "\": " + why);
  };
  if (sub_path.find('\0') != std::string::npos) throw refuse("contains a NUL byte");
  if (!sub_path.empty() && sub_path.front() == '/') throw refuse("must be a path relative to the image's root");
  std::string out;
  size_t start = 0;
  while (start <= sub_path.size()) {
    size_t end = sub_path.find('/', start);
    if (end == std::string::npos) end = sub_path.size();
    const std::string part = sub_path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") throw refuse("must not have \"..\" components (it would leave the image)");
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

std::string resolve_sub_dir(const std::string& root, const std::string& sub, const std::string& field) {
  Fd root_fd = open_fd(root, O_PATH | O_DIRECTORY);
  char buf[4096];
  auto real_path = [&](int fd, const std::string& what) {
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    if (n < 0 || static_cast<size_t>(n) >= sizeof buf) throw Internal(errno_text("resolving " + what, errno));
    return std::string(buf, static_cast<size_t>(n));
  };
  const std::string real_root = real_path(root_fd.get(), root);
  if (sub.empty()) return real_root;
  // No TOCTOU: the image's root filesystem is a read-only overlay of layers
  // that never change, so the path found here is the one bound later.
  Fd dir = openat2_fd(root_fd.get(), sub, O_PATH | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
  if (!dir) {
    const int err = errno;
    auto refuse = [&](const std::string& why) { return InvalidArgument(field + " \"" + sub + "\": " + why); };
    switch (err) {
      case ENOENT: throw refuse("no such directory in the image");
      case ENOTDIR: throw refuse("not a directory in the image");
      case EXDEV: throw refuse("a symlink on the way leads out of the image");
      case ELOOP: throw refuse("too many levels of symlinks in the image");
      default: throw Internal(errno_text("resolving " + field + " \"" + sub + "\" in " + root, err));
    }
  }
  const std::string real = real_path(dir.get(), sub);
  // RESOLVE_BENEATH guarantees it; checked again as the path is what is bound.
  if (real != real_root && !real.starts_with(real_root == "/" ? "/" : real_root + "/"))
    throw InvalidArgument(field + " \"" + sub + "\": resolves to " + real + ", outside the image");
  return real;
}

}  // namespace crius::image
