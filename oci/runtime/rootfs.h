// The container's root filesystem, in the init's new mount namespace:
// propagation of "/", the rootfs bind, the spec's mounts, /dev, pivot_root
// with the old root detached, then read-only root, masked and read-only paths.
#pragma once

#include <string>
#include <vector>

#include "base/fd.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// Everything before pivot_root. Returns an O_PATH fd of the new root mount.
// bind_devices: create device nodes by bind-mounting the host's (user ns).
// shared_ns: the mount namespace is the caller's; "/" is left as it is.
// mount_fds: see InitConfig::mount_fds (may be null).
Fd prepare_rootfs(const Spec&, const std::string& rootfs, const std::string& bundle, bool bind_devices,
                  bool shared_ns = false, const std::vector<int>* mount_fds = nullptr);
// pivot_root into root and detach the old root.
void pivot_into(int root);
// chroot into root (a mount namespace shared with the caller).
void chroot_into(int root);
// A container sharing the caller's mount namespace leaves its rootfs bind
// (and every mount under it) there; these find and detach it. mounts_at
// counts the mounts stacked at path; detach_rootfs_bind detaches the top
// one if there are more than `before` (the count before create).
// The state dir's file that marks such a container: the count before
// create and the rootfs, "<count> <path>" (the path, for a delete after a
// crash that left no state record to name it).
inline constexpr const char* kSharedRootfsFile = "shared-rootfs";
size_t mounts_at(const std::string& path);
void detach_rootfs_bind(const std::string& rootfs, size_t before);
// The readonly root remount.
void remount_root_readonly();
// maskedPaths and readonlyPaths, after pivot_root (plain paths are safe then:
// "/" is the container's root and nothing above it is reachable).
void mask_paths(const std::vector<std::string>&);
void readonly_paths(const std::vector<std::string>&);

}  // namespace crius::oci::runtime
