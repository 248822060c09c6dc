// The CRI stats of containers and pods (ContainerStats, PodSandboxStats and
// their List forms): cgroup figures read with oci/cgroups, the writable
// layer's usage walked on disk, the pod's network counters read inside its
// network namespace, turned into the CRI messages.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conf/config.h"
#include "container/record.h"
#include "sandbox/record.h"
#include "server/proto/api.pb.h"

namespace crius::server {

// The previous CPU sample of each container and pod: usage_nano_cores is a
// rate, so it needs two samples; the first call for an ID has none.
class CpuRates {
 public:
  // Stores (at_ns, total_ns) for `key`; returns the rate in nanocores since
  // the sample before, when there is an older one.
  std::optional<uint64_t> update(const std::string& key, int64_t at_ns, uint64_t total_ns);
  // Drops the samples of keys not in `live` (containers and pods gone).
  void keep_only(const std::set<std::string>& live);

 private:
  std::mutex mu_;
  std::map<std::string, std::pair<int64_t, uint64_t>> last_;
};

// The CpuRates key of a pod (a container's is its ID).
inline std::string pod_cpu_key(const std::string& pod_id) { return "pod:" + pod_id; }

// A container's stats: attributes, and what is left of it (the cgroup's
// figures while the cgroup exists; the writable layer while its upper dir does).
void to_stats(const container::Record&, const conf::Config&, CpuRates&, ::runtime::v1::ContainerStats*);
// A pod's stats: the pod cgroup (or, without one, the sum of its
// containers'), the network counters of its own network namespace, the
// process count, and each container's stats.
void to_stats(const sandbox::Record&, const std::vector<container::Record>& containers, const conf::Config&,
              CpuRates&, ::runtime::v1::PodSandboxStats*);

// The filter's id (exact or prefix), pod sandbox id (exact or prefix) and labels match.
bool matches(const container::Record&, const ::runtime::v1::ContainerStatsFilter&);
// The filter's id (exact or prefix) and labels match.
bool matches(const sandbox::Record&, const ::runtime::v1::PodSandboxStatsFilter&);

}  // namespace crius::server
