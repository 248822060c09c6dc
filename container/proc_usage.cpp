#include "container/proc_usage.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/file.h"
#include "base/proc_stat.h"

namespace crius::container {
namespace {

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
  // An init in the daemon's own mount namespace (a reused pid, or a spec
  // without a mount namespace) would count the daemon and everything else.
  const std::string ns = namespace_link(init, "mnt");
  if (ns.empty() || ns == namespace_link(::getpid(), "mnt")) return std::nullopt;
  const double ns_per_tick = 1e9 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  uint64_t user_ticks = 0, system_ticks = 0, rss = 0, count = 0;
  for (pid_t pid : processes_in_namespace(init, "mnt")) {
    // utime, stime, cutime, cstime (proc(5) fields 14-17).
    const auto t = process_stat_fields(pid, 14, 17);
    if (t.size() != 4) continue;  // ended meanwhile
    user_ticks += t[0] + t[2];
    system_ticks += t[1] + t[3];
    rss += resident_bytes(pid);
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

void CpuCarry::apply(oci::cgroups::Stats::Cpu& reading) {
  if (reading.user_ns < user_ns_) user_lost_ += user_ns_ - reading.user_ns;
  if (reading.system_ns < system_ns_) system_lost_ += system_ns_ - reading.system_ns;
  user_ns_ = reading.user_ns;
  system_ns_ = reading.system_ns;
  reading.user_ns += user_lost_;
  reading.system_ns += system_lost_;
  reading.total_ns = reading.user_ns + reading.system_ns;
}

}  // namespace crius::container
