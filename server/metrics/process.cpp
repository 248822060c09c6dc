#include "server/metrics/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <sstream>

#include "base/file.h"
#include "base/proc_stat.h"

namespace crius::metrics {
namespace {

// The boot time in seconds since the epoch (/proc/stat's btime).
uint64_t boot_time() {
  std::istringstream in(read_file_or_empty("/proc/stat"));
  for (std::string key; in >> key;) {
    if (key == "btime") {
      uint64_t t = 0;
      in >> t;
      return t;
    }
  }
  return 0;
}

size_t open_fds() {
  std::error_code ec;
  size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n > 0 ? n - 1 : 0;  // less the one this listing holds
}

void family(std::string& out, const char* name, const char* type, const char* help, const std::string& value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value +
         "\n";
}

}  // namespace

std::string render_process_metrics() {
  const pid_t self = ::getpid();
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // proc(5): utime 14, stime 15, starttime 22 (ticks), vsize 23 (bytes), rss 24 (pages).
  const double cpu = static_cast<double>(process_stat_field(self, 14) + process_stat_field(self, 15)) / ticks;
  const double start = static_cast<double>(boot_time()) + static_cast<double>(process_stat_field(self, 22)) / ticks;
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);

  std::string out;
  family(out, "process_cpu_seconds_total", "counter", "CPU time the daemon has used, user and system, in seconds.",
         std::to_string(cpu));
  family(out, "process_resident_memory_bytes", "gauge", "Memory of the daemon resident in RAM, in bytes.",
         std::to_string(static_cast<uint64_t>(static_cast<double>(process_stat_field(self, 24)) * page)));
  family(out, "process_virtual_memory_bytes", "gauge", "Address space of the daemon, in bytes.",
         std::to_string(process_stat_field(self, 23)));
  family(out, "process_open_fds", "gauge", "File descriptors the daemon holds open.", std::to_string(open_fds()));
  family(out, "process_max_fds", "gauge", "File descriptors the daemon may hold (its soft RLIMIT_NOFILE).",
         std::to_string(nofile.rlim_cur));
  family(out, "process_start_time_seconds", "gauge", "When the daemon started, in seconds since the epoch.",
         std::to_string(start));
  return out;
}

}  // namespace crius::metrics
