#include "container/proc_usage.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/dir.h"
#include "base/file.h"
#include "base/proc_stat.h"

namespace crius::container {
namespace {

std::string mount_namespace_of(pid_t pid) {
  char buf[64];
  const std::string link = "/proc/" + std::to_string(pid) + "/ns/mnt";
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Resident bytes of a process (VmRSS of /proc/<pid>/status), 0 when gone
// or a kernel thread.
uint64_t resident_bytes(pid_t pid) {
  const std::string status = read_file_or_empty("/proc/" + std::to_string(pid) + "/status");
  const auto at = status.find("\nVmRSS:");
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + 7, nullptr, 10) * 1024;  // "VmRSS:   1234 kB"
}

}  // namespace

std::optional<oci::cgroups::Stats> proc_usage(pid_t init) {
  if (init <= 0 || !process_running(init)) return std::nullopt;
  const std::string ns = mount_namespace_of(init);
  if (ns.empty()) return std::nullopt;
  auto proc = Dir::open_if_exists("/proc");
  if (!proc) return std::nullopt;
  const double ns_per_tick = 1e9 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  uint64_t user_ticks = 0, system_ticks = 0, rss = 0, count = 0;
  while (const dirent* e = proc->next()) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || mount_namespace_of(static_cast<pid_t>(pid)) != ns) continue;
    // utime, stime, cutime, cstime (proc(5) fields 14-17).
    user_ticks += process_stat_field(static_cast<pid_t>(pid), 14) + process_stat_field(static_cast<pid_t>(pid), 16);
    system_ticks += process_stat_field(static_cast<pid_t>(pid), 15) + process_stat_field(static_cast<pid_t>(pid), 17);
    rss += resident_bytes(static_cast<pid_t>(pid));
    ++count;
  }
  if (count == 0) return std::nullopt;  // the init ended while we looked
  oci::cgroups::Stats s;
  s.cpu.user_ns = static_cast<uint64_t>(static_cast<double>(user_ticks) * ns_per_tick);
  s.cpu.system_ns = static_cast<uint64_t>(static_cast<double>(system_ticks) * ns_per_tick);
  s.cpu.total_ns = s.cpu.user_ns + s.cpu.system_ns;
  s.memory.usage = s.memory.working_set = s.memory.rss = rss;
  s.pids.current = count;
  return s;
}

}  // namespace crius::container
