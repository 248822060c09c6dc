// Which cgroup hierarchies this host has and where they are mounted:
// v2 only (unified), v1 only (one mount per controller), or hybrid (v1
// controllers plus a controller-less, or nearly so, v2 mount, usually at
// /sys/fs/cgroup/unified). Read from /proc/self/mountinfo at run time.
#pragma once

#include <map>
#include <set>
#include <string>

namespace crius::oci::cgroups {

enum class Mode { v1, v2, hybrid };
const char* mode_name(Mode);

struct Hierarchy {
  Mode mode = Mode::v2;
  std::string unified;                     // cgroup2 mount point, "" when none
  std::map<std::string, std::string> v1;   // "memory" → /sys/fs/cgroup/memory ("name=systemd" too)
  std::set<std::string> v2_controllers;    // from <unified>/cgroup.controllers

  bool has_v1(const std::string& controller) const { return v1.count(controller) != 0; }
  bool v2_only() const { return mode == Mode::v2; }

  // The first cgroup2 mount and every cgroup (v1) mount of the text.
  static Hierarchy parse_mountinfo(const std::string& mountinfo);
  // This process's view; cached after the first call.
  static const Hierarchy& host();
};

// Whether this process may create cgroups: always outside a user namespace;
// inside one (rootless, or root in a container) only when every hierarchy's
// mount is writable to it, as in a delegated cgroup namespace. Cached.
bool may_create_cgroups();

// /proc/<pid>/cgroup by controller: "memory" → "/a/b" for v1 lines (and
// "name=systemd" for a named hierarchy), "" → the path of the v2 line.
// Built on base/proc_cgroup.h, which parses the lines.
std::map<std::string, std::string> parse_proc_cgroup(const std::string& text);
// The same for a process: "self" or a pid (NotFound when it is gone).
std::map<std::string, std::string> proc_cgroup_paths(const std::string& pid = "self");

}  // namespace crius::oci::cgroups
