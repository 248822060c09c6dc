// The "cgroup" mount type: on a cgroup v2 host a cgroup2 mount; on a v1 or
// hybrid host (this project's CI), a tmpfs holding a bind of each hierarchy's
// directory of the runtime's own cgroup, as runc lays it out.
#pragma once

#include <string>

#include "oci/runtime/mounts.h"

namespace crius::oci::runtime {

void mount_cgroup(int root, const std::string& dest, const MountOptions& o);

}  // namespace crius::oci::runtime
