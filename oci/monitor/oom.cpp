#include "oci/monitor/oom.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "base/file.h"
#include "base/proc_cgroup.h"

namespace crius::oci::monitor {

uint64_t parse_oom_kill(const std::string& text) {
  std::istringstream in(text);
  std::string key;
  uint64_t value;
  while (in >> key >> value)
    if (key == "oom_kill") return value;
  return 0;
}

namespace {

// The memory cgroup file to watch for pid, from /proc/<pid>/cgroup; "" when
// the process is gone or has no memory cgroup.
std::string oom_file(pid_t pid) {
  const bool unified = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  for (const auto& cg : parse_proc_cgroup(read_file_or_empty("/proc/" + std::to_string(pid) + "/cgroup"))) {
    if (unified && cg.controller_list.empty()) return "/sys/fs/cgroup" + cg.path + "/memory.events";
    if (!unified && std::ranges::find(cg.controllers, "memory") != cg.controllers.end())
      return "/sys/fs/cgroup/memory" + cg.path + "/memory.oom_control";
  }
  return {};
}

}  // namespace

std::optional<OomCounter> OomCounter::of(pid_t pid) {
  const std::string path = oom_file(pid);
  if (path.empty()) return std::nullopt;
  OomCounter c;
  c.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!c.fd_) return std::nullopt;
  c.base_ = c.read();
  return c;
}

uint64_t OomCounter::read() const {
  char buf[1024];
  ssize_t n = ::pread(fd_.get(), buf, sizeof buf - 1, 0);
  if (n <= 0) return base_;
  return parse_oom_kill(std::string(buf, n));
}

bool OomCounter::fired() const { return read() > base_; }

}  // namespace crius::oci::monitor
