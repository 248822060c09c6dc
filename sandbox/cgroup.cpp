#include "sandbox/cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <set>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/strings.h"
#include "oci/cgroups/path.h"
#include "oci/cgroups/systemd.h"

namespace crius::sandbox {
namespace {

// Marks an entry of create_cgroup's list that is a systemd unit crius started.
constexpr const char* kUnitMark = "unit:";

std::string systemd_slice_path(const std::string& slice) {
  if (slice == ".slice" || !slice.ends_with(".slice") || slice.find('/') != std::string::npos)
    throw InvalidArgument("cgroup_parent " + slice + ": the systemd cgroup driver expects a slice name like "
                          "kubepods-burstable-pod<uid>.slice");
  try {
    return oci::cgroups::expand_slice(slice);
  } catch (const Error& e) {
    throw InvalidArgument("cgroup_parent " + slice + ": not a valid slice name (" + e.what() + ")");
  }
}

}  // namespace

std::string cgroup_path(const std::string& parent, const std::string& driver) {
  if (parent.empty()) return "";
  if (driver == "systemd") return systemd_slice_path(parent);
  if (parent.front() != '/' || parent.find("..") != std::string::npos)
    throw InvalidArgument("cgroup_parent " + parent + ": the cgroupfs driver expects an absolute path like "
                          "/kubepods/burstable/pod<uid>");
  if (parent.ends_with(".slice"))
    throw InvalidArgument("cgroup_parent " + parent + ": a systemd slice, but cgroup_driver is cgroupfs");
  std::string p = parent;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::vector<std::string> cgroup_mounts(const std::string& mountinfo) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  // Only whole hierarchies (root "/"): a bind mount of a subtree is not one.
  for (const auto& m : parse_mountinfo(read_file_or_empty(mountinfo)))
    if ((m.fs_type == "cgroup" || m.fs_type == "cgroup2") && m.root == "/" && seen.insert(m.mount_point).second)
      out.push_back(m.mount_point);
  return out;
}

namespace {

// A new v1 cpuset cgroup starts with no CPUs or memory nodes; it gets its
// parent's so that tasks can join it. A copy that fails is logged: joining
// then fails with its own error.
void inherit_cpuset(const std::string& parent, const std::string& dir) {
  for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
    const std::string value = trim(read_file_or_empty(parent + "/" + f));
    if (value.empty()) continue;
    const std::string file = dir + "/" + f;
    try {
      // Missing outside the cpuset hierarchy; set already where the kernel copies it.
      if (auto now = read_file_if_exists(file); now && trim(*now).empty()) write_file(file, value);
    } catch (const std::exception& e) {
      log::warn("could not give a new cgroup its parent's cpuset", {{"cgroup", dir}, {"error", e.what()}});
    }
  }
}

}  // namespace

std::vector<std::string> create_cgroup(const std::string& path, const std::vector<std::string>& mounts,
                                       const std::string& systemd_slice) {
  std::vector<std::string> created;
  if (path.empty() || path == "/") return created;
  try {
    if (!systemd_slice.empty()) {
      if (oci::cgroups::systemd::running()) {
        // kubelet normally made the slice already; then it is not ours.
        const std::vector<oci::dbus::Value> props = {oci::cgroups::systemd::property(
            "Description", oci::dbus::Value::string("crius pod cgroup " + systemd_slice))};
        if (oci::cgroups::systemd::start_transient_unit(systemd_slice, props, true))
          created.push_back(kUnitMark + systemd_slice);
      } else {
        static std::atomic<bool> said{false};
        if (!said.exchange(true)) log::info("systemd is not running here: pod slices are plain cgroup directories");
      }
    }
    // The hierarchies systemd leaves alone (v1 cpuset…) still need the
    // directories; where systemd made them this finds them there.
    for (const auto& m : mounts) {
      std::string dir = m;
      for (const auto& part : split(path.substr(1), '/')) {
        if (part.empty()) continue;
        const std::string parent = dir;
        dir += "/" + part;
        if (::mkdir(dir.c_str(), 0755) == 0) {
          created.push_back(dir);
          inherit_cpuset(parent, dir);
        } else if (errno != EEXIST) {
          throw Internal(errno_text("creating cgroup " + dir, errno));
        }
      }
    }
  } catch (...) {
    if (const std::string problems = remove_cgroup_dirs(created); !problems.empty())
      log::warn("undoing a failed pod cgroup creation left some of it", {{"path", path}, {"error", problems}});
    throw;
  }
  return created;
}

std::string remove_cgroup_dirs(const std::vector<std::string>& created) {
  std::string problems;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    if (it->starts_with(kUnitMark)) {
      try {
        oci::cgroups::systemd::stop_unit(it->substr(std::string(kUnitMark).size()));
      } catch (const std::exception& e) {
        problems += (problems.empty() ? "" : "; ") + std::string(e.what());
      }
      continue;
    }
    // A parent shared with another pod's cgroup stays (ENOTEMPTY, EBUSY).
    if (::rmdir(it->c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EBUSY)
      problems += (problems.empty() ? "" : "; ") + errno_text(*it, errno);
  }
  return problems;
}

}  // namespace crius::sandbox
