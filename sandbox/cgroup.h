// The pod's cgroup parent, as kubelet names it for the configured driver:
// a path ("/kubepods/burstable/pod<uid>") for cgroupfs, a slice name
// ("kubepods-burstable-pod<uid>.slice") for systemd. crius creates the
// directories in every mounted hierarchy (cgroup v1 controllers, and the v2
// tree) so that the pod's containers nest under it — through systemd (a
// transient slice unit) when the driver is systemd and systemd is running —
// and removes on pod removal only what it created.
#pragma once

#include <string>
#include <vector>

namespace crius::sandbox {

// The path under each hierarchy root ("/kubepods.slice/kubepods-burstable.slice/…"
// for a slice). Throws crius::Error (InvalidArgument) for a name the driver
// does not accept.
std::string cgroup_path(const std::string& parent, const std::string& driver);

// Mount points of the cgroup hierarchies (v1 and v2) from /proc/self/mountinfo.
std::vector<std::string> cgroup_mounts(const std::string& mountinfo = "/proc/self/mountinfo");

// Creates `path` under every root in `mounts` where it is missing; returns
// what it created (parents first). systemd_slice (the systemd driver's
// cgroup_parent): when systemd is running, the slice is first started as a
// transient unit unless systemd already has it; the list then begins with
// "unit:<slice>". On failure removes what it made and throws naming it.
std::vector<std::string> create_cgroup(const std::string& path, const std::vector<std::string>& mounts,
                                       const std::string& systemd_slice = "");

// Removes the directories (children first) and stops the units; a missing
// one is fine, a busy one is left and reported in the returned text ("" when
// all went).
std::string remove_cgroup_dirs(const std::vector<std::string>& created);

}  // namespace crius::sandbox
