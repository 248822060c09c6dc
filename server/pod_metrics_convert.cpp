#include "server/pod_metrics_convert.h"

#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "server/metric_descriptors.h"

namespace crius::server {

namespace v1 = ::runtime::v1;

namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000;
// Above this a memory limit is the kernel's "no limit" (rounded down to a
// page), which cAdvisor reports as 0.
constexpr uint64_t kNoMemoryLimit = uint64_t{1} << 62;

uint64_t seconds(uint64_t ns) { return ns / kNsPerSecond; }
uint64_t seconds(int64_t ns) { return ns > 0 ? seconds(static_cast<uint64_t>(ns)) : 0; }

// Appends the samples of one container (or of the pod) to `out`, each
// with the same base labels and time.
class Samples {
 public:
  Samples(google::protobuf::RepeatedPtrField<v1::Metric>* out, std::initializer_list<std::string> base, int64_t at)
      : out_(out), base_(base), at_(at) {}

  void add(Family family, uint64_t value, std::initializer_list<std::string_view> extra = {}) {
    const FamilyInfo& f = info(family);
    v1::Metric* m = out_->Add();
    m->set_name(std::string(f.name));
    m->set_timestamp(at_);
    m->set_metric_type(f.type);
    for (const auto& v : base_) m->add_label_values(v);
    for (std::string_view v : extra) m->add_label_values(std::string(v));
    m->mutable_value()->set_value(value);
  }

 private:
  google::protobuf::RepeatedPtrField<v1::Metric>* out_;
  std::vector<std::string> base_;
  int64_t at_;
};

// CPU time: per CPU where the hierarchy counts it so (v1: "cpu00"…, only
// the CPUs used), else one "total" series once there is some.
void add_cpu(Samples& s, const oci::cgroups::Stats::Cpu& cpu) {
  if (cpu.per_cpu_ns.empty()) {
    if (cpu.total_ns > 0) s.add(Family::cpu_usage, seconds(cpu.total_ns), {"total"});
  } else {
    for (std::size_t i = 0; i < cpu.per_cpu_ns.size(); ++i) {
      if (cpu.per_cpu_ns[i] == 0) continue;
      char label[32];
      std::snprintf(label, sizeof label, "cpu%02zu", i);
      s.add(Family::cpu_usage, seconds(cpu.per_cpu_ns[i]), {label});
    }
  }
  s.add(Family::cpu_user, seconds(cpu.user_ns));
  s.add(Family::cpu_system, seconds(cpu.system_ns));
}

uint64_t raw(const oci::cgroups::Stats::Memory& m, const char* key) {
  auto it = m.raw.find(key);
  return it == m.raw.end() ? 0 : it->second;
}

void add_memory(Samples& s, const oci::cgroups::Stats::Memory& m) {
  s.add(Family::memory_usage, m.usage);
  s.add(Family::memory_working_set, m.working_set);
  s.add(Family::memory_rss, m.rss);
  s.add(Family::memory_cache, m.cache);
  s.add(Family::memory_swap, m.swap);
  s.add(Family::memory_failcnt, m.failcnt);
  // Page faults of the cgroup alone ("container") and with its children
  // ("hierarchy"): v1 counts both (pgfault, total_pgfault), v2's memory.stat
  // is hierarchical only, so cAdvisor reports it for both scopes.
  const bool v1_counts = m.raw.count("total_pgfault") > 0;
  const uint64_t own_faults = v1_counts ? raw(m, "pgfault") : m.pgfault;
  const uint64_t own_major = v1_counts ? raw(m, "pgmajfault") : m.pgmajfault;
  s.add(Family::memory_failures, own_faults, {"pgfault", "container"});
  s.add(Family::memory_failures, own_major, {"pgmajfault", "container"});
  s.add(Family::memory_failures, m.pgfault, {"pgfault", "hierarchy"});
  s.add(Family::memory_failures, m.pgmajfault, {"pgmajfault", "hierarchy"});
  s.add(Family::oom_events, m.oom_kill);
}

void add_cgroup(Samples& s, const oci::cgroups::Stats& st) {
  add_cpu(s, st.cpu);
  add_memory(s, st.memory);
  s.add(Family::processes, st.pids.current);
}

void add_interface(Samples& s, const container::InterfaceCounters& c) {
  const std::initializer_list<std::string_view> iface = {c.name};
  s.add(Family::network_receive_bytes, c.rx_bytes, iface);
  s.add(Family::network_receive_packets, c.rx_packets, iface);
  s.add(Family::network_receive_packets_dropped, c.rx_dropped, iface);
  s.add(Family::network_receive_errors, c.rx_errors, iface);
  s.add(Family::network_transmit_bytes, c.tx_bytes, iface);
  s.add(Family::network_transmit_packets, c.tx_packets, iface);
  s.add(Family::network_transmit_packets_dropped, c.tx_dropped, iface);
  s.add(Family::network_transmit_errors, c.tx_errors, iface);
}

void to_metrics(const sandbox::Record& pod, const container::Record& r, const container::ContainerUsage& u,
                v1::ContainerMetrics* out) {
  out->set_container_id(r.id);
  Samples s(out->mutable_metrics(), {r.name, r.id, r.image, r.id, pod.spec.namespace_, pod.spec.name}, u.at);
  s.add(Family::last_seen, seconds(u.at));
  s.add(Family::start_time, seconds(r.started_at ? r.started_at : r.created_at));
  if (u.cgroup) add_cgroup(s, u.cgroup->stats);
  if (const auto& w = u.writable_layer) {
    const std::string device = w->device.empty() ? w->mountpoint : w->device;
    s.add(Family::fs_usage, w->bytes, {device});
    s.add(Family::fs_inodes_total, w->device_inodes, {device});
  }
  const int64_t limit = r.resources.memory_limit_in_bytes();
  s.add(Family::spec_memory_limit,
        limit > 0 && static_cast<uint64_t>(limit) <= kNoMemoryLimit ? static_cast<uint64_t>(limit) : 0);
  // As cAdvisor: a quota only when there is one (microseconds per period).
  if (r.resources.cpu_quota() > 0) s.add(Family::spec_cpu_quota, static_cast<uint64_t>(r.resources.cpu_quota()));
}

}  // namespace

void to_metrics(const sandbox::Record& pod, const std::vector<container::Record>& containers,
                const container::PodUsage& u, v1::PodSandboxMetrics* out) {
  out->set_pod_sandbox_id(pod.id);
  Samples s(out->mutable_metrics(), {"", pod.id, "", "", pod.spec.namespace_, pod.spec.name}, u.at);
  s.add(Family::last_seen, seconds(u.at));
  s.add(Family::start_time, seconds(pod.created_at));
  // Without a cgroup parent the usage is the containers' sum, which would
  // count their samples twice.
  if (!pod.cgroup_parent.empty() && u.cgroup) add_cgroup(s, u.cgroup->stats);
  if (u.network)
    for (const auto& c : *u.network) add_interface(s, c);
  for (std::size_t i = 0; i < containers.size() && i < u.containers.size(); ++i)
    to_metrics(pod, containers[i], u.containers[i], out->add_container_metrics());
}

}  // namespace crius::server
