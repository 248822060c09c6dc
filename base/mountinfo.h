// /proc/<pid>/mountinfo, parsed once for every folder (see proc(5)):
//   id parent major:minor root mount_point options [optional…] - fstype source super_options
#pragma once

#include <string>
#include <vector>

namespace crius {

struct MountInfo {
  int id = 0, parent = 0;
  std::string root;          // the mount's root inside its filesystem
  std::string mount_point;
  std::string options;       // per-mount: "rw,nosuid,…"
  std::vector<std::string> optional;  // "shared:5", "master:3", "unbindable"…
  std::string fs_type;
  std::string source;
  std::string super_options;

  // "shared", "slave" or "private", from the optional fields.
  std::string propagation() const;
};

// The octal escapes mountinfo writes for space, tab, newline and backslash.
std::string unescape_mountinfo(const std::string& s);
// Each well-formed line, with root, mount point and source unescaped.
std::vector<MountInfo> parse_mountinfo(const std::string& text);
std::vector<MountInfo> read_mountinfo(const std::string& path = "/proc/self/mountinfo");

}  // namespace crius
