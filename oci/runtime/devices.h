// The container's /dev: the default device nodes every container gets, the
// spec's linux.devices, and the standard links (fd, stdin…, ptmx).
#pragma once

#include <vector>

#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// null, zero, full, random, urandom, tty (runtime spec "Default Devices").
const std::vector<Device>& default_devices();

// Creates `d` inside root: mknod, or, where mknod is not allowed (a user
// namespace), an empty file with the host's node bind-mounted on it.
void create_device(int root, const Device& d, bool bind_from_host);
// /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr, /dev/ptmx, /dev/core.
void create_dev_links(int root);

}  // namespace crius::oci::runtime
