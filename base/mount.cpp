#include "base/mount.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>

#include "base/error.h"
#include "base/fd.h"
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

Mount Mount::idmapped_bind(const std::string& source, const std::string& target, const std::string& userns_path,
                           const std::string& what) {
  const Fd userns(::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!userns) throw Internal(errno_text(what + ": opening user namespace " + userns_path, errno));
  const Fd tree(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) throw Internal(errno_text(what + ": open_tree(OPEN_TREE_CLONE) of " + source, errno));
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns.get());
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    throw Internal(errno_text(what + ": mount_setattr(MOUNT_ATTR_IDMAP) on " + source, errno));
  if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    throw Internal(errno_text(what + ": attaching the idmapped bind of " + source + " at " + target, errno));
  return Mount(target);
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
