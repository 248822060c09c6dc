// The container's root filesystem, in the init's new mount namespace:
// propagation of "/", the rootfs bind, the spec's mounts, /dev, pivot_root
// with the old root detached, then read-only root, masked and read-only paths.
#pragma once

#include <string>

#include "oci/runtime/sys.h"
#include "oci/spec.h"

namespace crius::oci::runtime {

// Everything before pivot_root. Returns an O_PATH fd of the new root mount.
// bind_devices: create device nodes by bind-mounting the host's (user ns).
Fd prepare_rootfs(const Spec&, const std::string& rootfs, const std::string& bundle, bool bind_devices);
// pivot_root into root and detach the old root.
void pivot_into(int root);
// The readonly root remount.
void remount_root_readonly();
// maskedPaths and readonlyPaths, after pivot_root (plain paths are safe then:
// "/" is the container's root and nothing above it is reachable).
void mask_paths(const std::vector<std::string>&);
void readonly_paths(const std::vector<std::string>&);

}  // namespace crius::oci::runtime
