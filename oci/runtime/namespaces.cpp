#include "oci/runtime/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "base/error.h"
#include "base/file.h"

namespace crius::oci::runtime {

int namespace_flag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  throw InvalidArgument("unknown namespace type \"" + type + "\"");
}

const char* namespace_proc_name(const std::string& type) {
  if (type == "network") return "net";
  if (type == "mount") return "mnt";
  if (type == "pid") return "pid";
  if (type == "ipc") return "ipc";
  if (type == "uts") return "uts";
  if (type == "user") return "user";
  if (type == "cgroup") return "cgroup";
  if (type == "time") return "time";
  return "?";
}

Fd open_namespace(const std::string& path, int flag) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open namespace " + path);
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) {
    if (errno == ENOTTY || errno == EINVAL) throw InvalidArgument("namespace path " + path + " is not a namespace");
    throw_errno("ioctl(NS_GET_NSTYPE) on " + path);
  }
  if (type != flag) throw InvalidArgument("namespace path " + path + " is a namespace of another type");
  return fd;
}

bool NamespacePlan::has(int flag) const {
  if (flag == CLONE_NEWTIME && new_time) return true;
  if (clone_flags & static_cast<unsigned long>(flag)) return true;
  for (const auto& j : joins)
    if (j.flag == flag) return true;
  return false;
}

bool NamespacePlan::is_new(int flag) const {
  if (flag == CLONE_NEWTIME) return new_time;
  return clone_flags & static_cast<unsigned long>(flag);
}

bool NamespacePlan::joins_user_or_pid() const {
  for (const auto& j : joins)
    if (j.flag == CLONE_NEWUSER || j.flag == CLONE_NEWPID) return true;
  return false;
}

NamespacePlan plan_namespaces(const Linux* l) {
  NamespacePlan p;
  if (!l) return p;
  // setns order: user first (the others are joined with its rights), mount
  // last (the runtime's paths stay reachable until then).
  static const char* kOrder[] = {"user", "pid", "network", "ipc", "uts", "cgroup", "time", "mount"};
  for (const char* type : kOrder) {
    for (const auto& ns : l->namespaces) {
      if (ns.type != type) continue;
      int flag = namespace_flag(ns.type);
      if (ns.path.empty()) {
        if (flag == CLONE_NEWTIME) p.new_time = true;
        else p.clone_flags |= static_cast<unsigned long>(flag);
      } else {
        p.joins.push_back(Join{flag, open_namespace(ns.path, flag), ns.path});
      }
    }
  }
  return p;
}

std::string format_id_map(const std::vector<IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return out;
}

void write_id_maps(pid_t pid, const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids) {
  const std::string base = "/proc/" + std::to_string(pid) + "/";
  // One write each: the kernel takes a map in a single write only.
  if (!uids.empty()) write_file(base + "uid_map", format_id_map(uids));
  if (!gids.empty()) write_file(base + "gid_map", format_id_map(gids));
}

}  // namespace crius::oci::runtime
