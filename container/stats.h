// The usage figures behind the CRI stats RPCs, read where they live: the
// container's and the pod's cgroup (oci/cgroups; /proc for a container
// without one, proc_usage.h), the writable layer's disk
// usage, and the pod's network counters, read inside its network namespace.
// usage_nano_cores is a rate, so the sampler keeps the previous CPU sample of
// every container and pod; the first sample of one has no rate.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conf/config.h"
#include "container/proc_usage.h"
#include "container/record.h"
#include "image/images.h"
#include "oci/cgroups/stats.h"
#include "sandbox/record.h"

namespace crius::container {

// A cgroup's figures at one moment.
struct CgroupUsage {
  oci::cgroups::Stats stats;
  std::optional<uint64_t> nano_cores;  // since the sample before, when there is one
};

struct WritableLayer {
  int64_t at = 0;          // when it was walked, nanoseconds since the epoch
  std::string mountpoint;  // of the filesystem that holds it
  uint64_t bytes = 0, inodes = 0;
  std::string device;           // that filesystem's source ("/dev/vda1"), "" when unknown
  uint64_t device_inodes = 0;   // that filesystem's inode count (statfs)
};

struct InterfaceCounters {
  std::string name;
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

// What is left of a container: its cgroup while that exists, its writable
// layer while the upper dir does.
struct ContainerUsage {
  int64_t at = 0;  // when it was read, nanoseconds since the epoch
  std::optional<CgroupUsage> cgroup;
  std::optional<WritableLayer> writable_layer;
};

struct PodUsage {
  int64_t at = 0;
  // The pod cgroup, or without one its containers' added up.
  std::optional<CgroupUsage> cgroup;
  // Every interface but lo of the pod's own network namespace, while the
  // pod is ready; nothing for a pod on the host network.
  std::optional<std::vector<InterfaceCounters>> network;
  std::vector<ContainerUsage> containers;  // in the order given
};

class StatsSampler {
 public:
  // The image store says where each container's writable layer is.
  explicit StatsSampler(const image::Images& images) : images_(images) {}
  ContainerUsage container(const Record&, const conf::Config&);  // cgroup() and layer()
  ContainerUsage cgroup(const Record&, const conf::Config&);     // without the writable layer
  std::optional<WritableLayer> layer(const Record&);             // walks it
  // The pod's own figures (its cgroup, or without one its containers' added
  // up; its network) over samples of its containers, which it keeps.
  PodUsage pod(const sandbox::Record&, std::vector<ContainerUsage> containers);
  // The same, sampling the containers first.
  PodUsage pod(const sandbox::Record&, const std::vector<Record>& containers, const conf::Config&);
  // Forgets the CPU samples of every container and pod not listed (gone).
  void keep_only(const std::vector<Record>& containers, const std::vector<sandbox::Record>& pods);

 private:
  // Stores (at_ns, total_ns) for `key`; the rate since the sample before.
  std::optional<uint64_t> rate(const std::string& key, int64_t at_ns, uint64_t total_ns);
  // A CPU reading from /proc through the container's CpuCarry.
  void never_back(const std::string& key, oci::cgroups::Stats::Cpu& cpu);

  const image::Images& images_;
  std::mutex mu_;
  std::map<std::string, std::pair<int64_t, uint64_t>> last_;  // key → (at_ns, total_ns)
  std::map<std::string, CpuCarry> proc_cpu_;  // container ID → its CPU read from /proc
};

}  // namespace crius::container
