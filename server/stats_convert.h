// The CRI stats messages (ContainerStats, PodSandboxStats and their List
// forms) from the usage container/stats.h gathers, and the stats filters.
#pragma once

#include <vector>

#include "api/cri.pb.h"
#include "container/record.h"
#include "container/stats.h"
#include "sandbox/record.h"

namespace crius::server {

// A container's stats: attributes, and what `usage` found left of it.
void to_stats(const container::Record&, const container::ContainerUsage& usage, ::runtime::v1::ContainerStats*);
// A pod's stats: attributes, the pod cgroup's figures, the network counters
// and process count, and each container's stats (`containers` in the order
// of usage.containers).
void to_stats(const sandbox::Record&, const std::vector<container::Record>& containers,
              const container::PodUsage& usage, ::runtime::v1::PodSandboxStats*);

// The filter's id (exact or prefix), pod sandbox id (exact or prefix) and labels match.
bool matches(const container::Record&, const ::runtime::v1::ContainerStatsFilter&);
// The filter's id (exact or prefix) and labels match.
bool matches(const sandbox::Record&, const ::runtime::v1::PodSandboxStatsFilter&);

}  // namespace crius::server
