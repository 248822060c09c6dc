// The "cgroup" mount type: on a cgroup v2 host a cgroup2 mount; on a v1 or
// hybrid host (this project's CI), a tmpfs holding a bind of each hierarchy's
// directory of the runtime's own cgroup, as runc lays it out.
#pragma once

#include <string>
#include <vector>

#include "oci/runtime/mounts.h"

namespace crius::oci::runtime {

struct MountInfo {
  std::string root;         // the mount's root inside its filesystem
  std::string mount_point;
  std::string fs_type;
  std::string source;
  std::string super_options;
};

// The entries of /proc/self/mountinfo (mount points unescaped).
std::vector<MountInfo> read_mountinfo(const std::string& path = "/proc/self/mountinfo");

void mount_cgroup(int root, const std::string& dest, const MountOptions& o);

}  // namespace crius::oci::runtime
