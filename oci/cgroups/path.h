// From linux.cgroupsPath to the directories of a container's cgroup.
//  - cgroupfs driver: an absolute path is taken under each hierarchy's root;
//    a relative one under the runtime's own cgroup (v1: per controller; v2:
//    its parent, since a v2 cgroup with processes cannot have children with
//    controllers); empty means the container ID, relative.
//  - systemd driver ("slice:prefix:name", as runc takes it): the slice is
//    expanded the way systemd nests slices (a-b.slice → a.slice/a-b.slice)
//    and the unit is "<prefix>-<name>.scope" (or name itself when it is a
//    slice). Without a running systemd these are plain directories.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "oci/cgroups/hierarchy.h"

namespace crius::oci::cgroups {

// The directories of one cgroup on this host.
struct Paths {
  std::string unified;                    // cgroup2 directory, "" when not used
  std::map<std::string, std::string> v1;  // controller → directory
  Mode mode = Mode::v2;

  bool empty() const { return unified.empty() && v1.empty(); }
  // v2 directory for controller files: the unified dir on a v2 host.
  nlohmann::json to_json() const;
  static Paths from_json(const nlohmann::json&);
};

// "/../a/./b" → "/a/b"; relative paths stay relative but cannot climb out.
std::string clean_path(const std::string& p);
// "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" → "/".
// InvalidArgument for a malformed slice name.
std::string expand_slice(const std::string& slice);
// "slice:prefix:name" → "/<expanded slice>/<prefix>-<name>.scope".
std::string systemd_path(const std::string& spec);
// The path of the container's cgroup inside a hierarchy (absolute, or
// relative to the runtime's own cgroup) for linux.cgroupsPath.
std::string container_cgroup_path(const std::string& cgroups_path, bool systemd, const std::string& id);
// Directories for a path given by container_cgroup_path; own is the
// runtime's /proc/self/cgroup (parse_proc_cgroup).
Paths resolve(const Hierarchy&, const std::string& path, const std::map<std::string, std::string>& own);
// Same, for this process on this host.
Paths resolve_here(const std::string& path);

}  // namespace crius::oci::cgroups
