// Usage figures of one cgroup, read the same way on either hierarchy: what
// `events --stats` prints, the stats RPCs report and the monitor watches
// (the OOM kill count).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/cgroups/path.h"

namespace crius::oci::cgroups {

struct Stats {
  struct Cpu {
    uint64_t total_ns = 0, user_ns = 0, system_ns = 0;
    std::vector<uint64_t> per_cpu_ns;  // empty where the hierarchy has none (v2)
    uint64_t periods = 0, throttled_periods = 0, throttled_ns = 0;
  } cpu;
  struct Memory {
    uint64_t usage = 0, max_usage = 0, limit = 0;  // limit 0: unlimited
    uint64_t working_set = 0;                      // usage - inactive_file, as kubelet computes it
    uint64_t rss = 0, cache = 0, swap = 0;
    uint64_t pgfault = 0, pgmajfault = 0;
    uint64_t oom_events = 0, oom_kill = 0;
    uint64_t failcnt = 0;  // times usage hit the limit: v1's memory.failcnt; v2 has none (0)
    uint64_t swap_limit = 0;  // 0: unlimited (v2 memory.swap.max; v1 memsw.limit less limit)
    std::map<std::string, uint64_t> raw;  // memory.stat as read
  } memory;
  struct Pids {
    uint64_t current = 0, limit = 0;  // limit 0: unlimited
  } pids;
  struct Io {
    uint64_t read_bytes = 0, write_bytes = 0, read_ops = 0, write_ops = 0;
    struct Device {
      uint64_t major = 0, minor = 0, read_bytes = 0, write_bytes = 0, read_ops = 0, write_ops = 0;
    };
    std::vector<Device> devices;
  } io;
  struct Hugetlb {
    uint64_t usage = 0, max_usage = 0, failcnt = 0;
  };
  std::map<std::string, Hugetlb> hugetlb;  // "2MB" → usage

  // Pressure stall information (the cgroup2 *.pressure files; a v1-only
  // host has none): the "some" and "full" lines.
  struct Psi {
    struct Line {
      uint64_t total_us = 0;  // stall time, microseconds
      double avg10 = 0, avg60 = 0, avg300 = 0;
    };
    Line some, full;
  };
  std::optional<Psi> cpu_psi, memory_psi, io_psi;

  // runc's `events --stats` data object (cpu, memory, pids, blkio, hugetlb).
  nlohmann::json to_runc_json() const;
};

// Reads the cgroup's files; missing controllers leave their part zero.
Stats read_stats(const Paths&);
// Same for a cgroupsPath as the runtime resolves it (see path.h).
Stats read_stats(const std::string& cgroups_path, bool systemd, const std::string& id);

}  // namespace crius::oci::cgroups
