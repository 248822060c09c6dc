#include "base/mount.h"

#include <sys/mount.h>

#include <cerrno>

#include "base/error.h"
#include "base/log.h"

namespace crius {

Mount Mount::make(const std::string& source, const std::string& target, const char* fstype, unsigned long flags,
                  const std::string& data, const std::string& what) {
  if (::mount(source.c_str(), target.c_str(), fstype, flags, data.empty() ? nullptr : data.c_str()) != 0)
    throw Internal(errno_text(what, errno));
  return Mount(target);
}

Mount Mount::bind(const std::string& source, const std::string& target, const std::string& what) {
  return make(source, target, nullptr, MS_BIND, "", what);
}

void Mount::detach_quietly() {
  if (target_.empty()) return;
  try {
    detach_mount(target_);
  } catch (const std::exception& e) {
    log::warn("leaving a mount behind on an error path", {{"target", target_}, {"error", e.what()}});
  }
  target_.clear();
}

void detach_mount(const std::string& target) {
  if (::umount2(target.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    throw Internal(errno_text("unmounting " + target, errno));
}

}  // namespace crius
