#include "sandbox/cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include "conf/error.h"
#include "conf/log.h"
#include "oci/cgroups/path.h"
#include "oci/cgroups/systemd.h"

namespace crius::sandbox {
namespace {

// Marks an entry of create_cgroup's list that is a systemd unit crius started.
constexpr const char* kUnitMark = "unit:";

std::string systemd_slice_path(const std::string& slice) {
  if (slice.size() <= 6 || slice.compare(slice.size() - 6, 6, ".slice") != 0 || slice.find('/') != std::string::npos)
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
  if (parent.size() > 6 && parent.compare(parent.size() - 6, 6, ".slice") == 0)
    throw InvalidArgument("cgroup_parent " + parent + ": a systemd slice, but cgroup_driver is cgroupfs");
  std::string p = parent;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::vector<std::string> cgroup_mounts(const std::string& mountinfo) {
  std::ifstream in(mountinfo);
  std::string line;
  std::vector<std::string> out;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    // "<id> <parent> <maj:min> <root> <mountpoint> <opts> [optional…] - <fstype> <source> <superopts>"
    std::istringstream ls(line);
    std::string id, parent, dev, root, mountpoint, opts, field;
    ls >> id >> parent >> dev >> root >> mountpoint >> opts;
    while (ls >> field && field != "-") {
    }
    std::string fstype;
    ls >> fstype;
    if ((fstype == "cgroup" || fstype == "cgroup2") && root == "/" && seen.insert(mountpoint).second)
      out.push_back(mountpoint);
  }
  return out;
}

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
      std::stringstream ss(path.substr(1));
      std::string part;
      while (std::getline(ss, part, '/')) {
        if (part.empty()) continue;
        const std::string parent = dir;
        dir += "/" + part;
        if (::mkdir(dir.c_str(), 0755) == 0) {
          created.push_back(dir);
          // A new v1 cpuset cgroup starts with no CPUs or memory nodes;
          // give it its parent's so that tasks can join it.
          for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
            std::ifstream pin(parent + "/" + f);
            std::string value;
            if (pin && std::getline(pin, value) && !value.empty()) {
              std::ifstream cur(dir + "/" + f);
              std::string now;
              if (cur && (!std::getline(cur, now) || now.empty())) std::ofstream(dir + "/" + f) << value;
            }
          }
        } else if (errno != EEXIST) {
          throw Internal(errno_text("creating cgroup " + dir, errno));
        }
      }
    }
  } catch (...) {
    remove_cgroup_dirs(created);
    throw;
  }
  return created;
}

std::string remove_cgroup_dirs(const std::vector<std::string>& created) {
  std::string problems;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    if (it->rfind(kUnitMark, 0) == 0) {
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
