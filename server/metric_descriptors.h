// The metric families of the CRI pod-metrics RPCs (ListMetricDescriptors,
// ListPodSandboxMetrics): kubelet turns each descriptor into a Prometheus
// family of /metrics/cadvisor (name, help, label keys as variable labels)
// and each sample into a series of it, the value taken as is. So the names,
// help texts, types and extra labels are cAdvisor's, and the base labels
// are those kubelet gives cAdvisor's series, in the order they are sent.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include "api/cri.pb.h"

namespace crius::server {

// Every family ListPodSandboxMetrics can send, in the order it sends them.
enum class Family {
  last_seen,
  start_time,
  cpu_usage,
  cpu_user,
  cpu_system,
  memory_usage,
  memory_working_set,
  memory_rss,
  memory_cache,
  memory_swap,
  memory_failcnt,
  memory_failures,
  oom_events,
  processes,
  fs_usage,
  fs_inodes_total,
  network_receive_bytes,
  network_receive_packets,
  network_receive_packets_dropped,
  network_receive_errors,
  network_transmit_bytes,
  network_transmit_packets,
  network_transmit_packets_dropped,
  network_transmit_errors,
  spec_memory_limit,
  spec_cpu_quota,
};
inline constexpr std::size_t kFamilyCount = static_cast<std::size_t>(Family::spec_cpu_quota) + 1;

// The labels every sample starts with: "container" (the container's name in
// the pod, "" for the pod itself), "id" (the container's or pod's ID),
// "image", "name" (the runtime's name of the container, its ID; "" for the
// pod), "namespace", "pod".
inline constexpr std::array<std::string_view, 6> kBaseLabels = {"container", "id",        "image",
                                                                "name",      "namespace", "pod"};

struct FamilyInfo {
  std::string_view name, help;
  ::runtime::v1::MetricType type;
  std::vector<std::string_view> extra_labels;  // after the base labels, in this order
};

const FamilyInfo& info(Family);
// Every family's descriptor, base labels then extra labels.
void list_descriptors(::google::protobuf::RepeatedPtrField<::runtime::v1::MetricDescriptor>* out);

}  // namespace crius::server
