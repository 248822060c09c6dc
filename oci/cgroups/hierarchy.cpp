#include "oci/cgroups/hierarchy.h"

#include <unistd.h>

#include <vector>

#include "base/file.h"
#include "base/mountinfo.h"
#include "base/proc_cgroup.h"
#include "base/strings.h"
#include "base/user_namespace.h"

namespace crius::oci::cgroups {
namespace {

std::map<std::string, std::string> by_controller(const std::vector<ProcCgroup>& entries) {
  std::map<std::string, std::string> out;
  for (const auto& e : entries) {
    if (e.controllers.empty()) out[""] = e.path;
    for (const auto& c : e.controllers)
      if (!c.empty()) out[c] = e.path;
  }
  return out;
}

// Options of a v1 cgroup mount that name no controller.
bool is_mount_flag(const std::string& opt) {
  return opt.empty() || opt == "rw" || opt == "ro" || opt == "clone_children" || opt == "noprefix" ||
         opt == "xattr" || opt.starts_with("release_agent=");
}

}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::v1: return "v1";
    case Mode::v2: return "v2";
    case Mode::hybrid: return "hybrid";
  }
  return "?";
}

Hierarchy Hierarchy::parse_mountinfo(const std::string& text) {
  Hierarchy h;
  for (const auto& m : crius::parse_mountinfo(text)) {
    if (m.fs_type == "cgroup2") {
      if (h.unified.empty()) h.unified = m.mount_point;
    } else if (m.fs_type == "cgroup") {
      for (const auto& opt : split(m.super_options, ','))
        if (!is_mount_flag(opt) && !h.v1.count(opt)) h.v1[opt] = m.mount_point;
    }
  }
  bool any_v1 = false;
  for (const auto& [c, p] : h.v1)
    if (!c.starts_with("name=")) any_v1 = true;
  if (!any_v1 && !h.unified.empty())
    h.mode = Mode::v2;
  else if (any_v1 && !h.unified.empty())
    h.mode = Mode::hybrid;
  else
    h.mode = Mode::v1;
  return h;
}

const Hierarchy& Hierarchy::host() {
  static const Hierarchy h = [] {
    Hierarchy x = parse_mountinfo(read_file("/proc/self/mountinfo"));
    // Unreadable controllers (a cgroup2 mount we may not look into) leave
    // the set empty, as on a host that delegates none.
    if (!x.unified.empty())
      for (auto& c : words(read_file_or_empty(x.unified + "/cgroup.controllers"))) x.v2_controllers.insert(std::move(c));
    return x;
  }();
  return h;
}

bool may_create_cgroups() {
  static const bool may = [] {
    if (!in_user_namespace()) return true;
    const Hierarchy& h = Hierarchy::host();
    if (h.unified.empty() && h.v1.empty()) return false;
    if (!h.unified.empty() && ::access(h.unified.c_str(), W_OK) != 0) return false;
    for (const auto& [controller, dir] : h.v1)
      if (::access(dir.c_str(), W_OK) != 0) return false;
    return true;
  }();
  return may;
}

std::map<std::string, std::string> parse_proc_cgroup(const std::string& text) {
  return by_controller(crius::parse_proc_cgroup(text));
}

std::map<std::string, std::string> proc_cgroup_paths(const std::string& pid) {
  return by_controller(read_proc_cgroup(pid));
}

}  // namespace crius::oci::cgroups
