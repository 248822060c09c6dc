#include "oci/monitor/oom.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <sstream>

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

std::string read_text(const std::string& path) {
  try {
    return runtime::read_file(path);
  } catch (...) {
    return {};
  }
}

// The memory cgroup file to watch for pid, from /proc/<pid>/cgroup.
std::string oom_file(pid_t pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
  const bool unified = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (unified && controllers.empty()) return "/sys/fs/cgroup" + path + "/memory.events";
    if (!unified) {
      std::istringstream cs(controllers);
      std::string c;
      while (std::getline(cs, c, ','))
        if (c == "memory") return "/sys/fs/cgroup/memory" + path + "/memory.oom_control";
    }
  }
  return {};
}

}  // namespace

std::optional<OomCounter> OomCounter::of(pid_t pid) {
  const std::string path = oom_file(pid);
  if (path.empty()) return std::nullopt;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  OomCounter c;
  c.fd_ = std::make_shared<runtime::Fd>(fd);
  c.base_ = c.read();
  return c;
}

uint64_t OomCounter::read() const {
  char buf[1024];
  ssize_t n = ::pread(fd_->get(), buf, sizeof buf - 1, 0);
  if (n <= 0) return base_;
  return parse_oom_kill(std::string(buf, n));
}

bool OomCounter::fired() const { return read() > base_; }

}  // namespace crius::oci::monitor
