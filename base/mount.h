// The owner of a mount: detached (umount2 MNT_DETACH) when it goes out of
// scope, unless keep() hands it on (to a record that unmounts it later).
// For the overlay root filesystems, the pods' /dev/shm and namespace pins.
#pragma once

#include <string>
#include <utility>

namespace crius {

class Mount {
 public:
  Mount() = default;
  // mount(2); throws Internal "<what>: <errno text>" (what names the target).
  static Mount make(const std::string& source, const std::string& target, const char* fstype,
                    unsigned long flags, const std::string& data, const std::string& what);
  static Mount bind(const std::string& source, const std::string& target, const std::string& what);
  // An idmapped bind of `source` (not its submounts) attached at `target`:
  // IDs on disk are seen through the user namespace at `userns_path` (an
  // nsfs file), as mount_setattr(MOUNT_ATTR_IDMAP) maps them. Not every
  // filesystem takes it (overlayfs does not; its layers can be idmapped).
  // Throws Internal naming `what`.
  static Mount idmapped_bind(const std::string& source, const std::string& target, const std::string& userns_path,
                             const std::string& what);
  // A mount that is already in place (made by another API) now owned here.
  static Mount adopt(std::string target) { return Mount(std::move(target)); }

  Mount(Mount&& o) noexcept : target_(std::exchange(o.target_, {})) {}
  Mount& operator=(Mount&& o) noexcept {
    if (this != &o) {
      detach_quietly();
      target_ = std::exchange(o.target_, {});
    }
    return *this;
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount() { detach_quietly(); }

  const std::string& target() const { return target_; }
  void keep() { target_.clear(); }

 private:
  explicit Mount(std::string target) : target_(std::move(target)) {}
  // Logged, not thrown: this runs in destructors on error paths.
  void detach_quietly();
  std::string target_;
};

// umount2(target, MNT_DETACH); not mounted (EINVAL) or missing (ENOENT) is
// fine. Other errors throw Internal naming the target.
void detach_mount(const std::string& target);

}  // namespace crius
