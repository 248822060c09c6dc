#include "server/metric_descriptors.h"

#include <string>

namespace crius::server {

namespace v1 = ::runtime::v1;

namespace {

constexpr auto kCounter = v1::MetricType::COUNTER;
constexpr auto kGauge = v1::MetricType::GAUGE;

// The facts of cAdvisor's lib/metrics/prometheus.go for each family, in
// the order of Family.
const FamilyInfo kFamilies[kFamilyCount] = {
    {"container_last_seen", "Last time a container was seen by the exporter", kGauge, {}},
    {"container_start_time_seconds", "Start time of the container since unix epoch in seconds.", kGauge, {}},
    {"container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", kCounter, {"cpu"}},
    {"container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.", kCounter, {}},
    {"container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds.", kCounter, {}},
    {"container_memory_usage_bytes",
     "Current memory usage in bytes, including all memory regardless of when it was accessed",
     kGauge,
     {}},
    {"container_memory_working_set_bytes", "Current working set in bytes.", kGauge, {}},
    {"container_memory_rss", "Size of RSS in bytes.", kGauge, {}},
    {"container_memory_cache", "Number of bytes of page cache memory.", kGauge, {}},
    {"container_memory_swap", "Container swap usage in bytes.", kGauge, {}},
    {"container_memory_failcnt", "Number of memory usage hits limits", kCounter, {}},
    {"container_memory_failures_total",
     "Cumulative count of memory allocation failures.",
     kCounter,
     {"failure_type", "scope"}},
    {"container_oom_events_total", "Count of out of memory events observed for the container", kCounter, {}},
    {"container_processes", "Number of processes running inside the container.", kGauge, {}},
    {"container_fs_usage_bytes",
     "Number of bytes that are consumed by the container on this filesystem.",
     kGauge,
     {"device"}},
    {"container_fs_inodes_total", "Number of Inodes", kGauge, {"device"}},
    {"container_network_receive_bytes_total", "Cumulative count of bytes received", kCounter, {"interface"}},
    {"container_network_receive_packets_total", "Cumulative count of packets received", kCounter, {"interface"}},
    {"container_network_receive_packets_dropped_total",
     "Cumulative count of packets dropped while receiving",
     kCounter,
     {"interface"}},
    {"container_network_receive_errors_total",
     "Cumulative count of errors encountered while receiving",
     kCounter,
     {"interface"}},
    {"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", kCounter, {"interface"}},
    {"container_network_transmit_packets_total", "Cumulative count of packets transmitted", kCounter, {"interface"}},
    {"container_network_transmit_packets_dropped_total",
     "Cumulative count of packets dropped while transmitting",
     kCounter,
     {"interface"}},
    {"container_network_transmit_errors_total",
     "Cumulative count of errors encountered while transmitting",
     kCounter,
     {"interface"}},
    {"container_spec_memory_limit_bytes", "Memory limit for the container.", kGauge, {}},
    {"container_spec_cpu_quota", "CPU quota of the container.", kGauge, {}},
};

}  // namespace

const FamilyInfo& info(Family f) { return kFamilies[static_cast<std::size_t>(f)]; }

void list_descriptors(google::protobuf::RepeatedPtrField<v1::MetricDescriptor>* out) {
  for (const FamilyInfo& f : kFamilies) {
    v1::MetricDescriptor* d = out->Add();
    d->set_name(std::string(f.name));
    d->set_help(std::string(f.help));
    for (std::string_view key : kBaseLabels) d->add_label_keys(std::string(key));
    for (std::string_view key : f.extra_labels) d->add_label_keys(std::string(key));
  }
}

}  // namespace crius::server
