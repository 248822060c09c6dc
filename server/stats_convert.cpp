#include "server/stats_convert.h"

#include "server/filters.h"

namespace crius::server {

namespace v1 = ::runtime::v1;

namespace {

void set(v1::UInt64Value* v, uint64_t n) { v->set_value(n); }

void fill_psi(const oci::cgroups::Stats::Psi& psi, v1::PsiStats* out) {
  for (auto [from, to] : {std::pair{&psi.some, out->mutable_some()}, std::pair{&psi.full, out->mutable_full()}}) {
    to->set_total(from->total_us * 1000);  // the kernel counts microseconds, the CRI nanoseconds
    to->set_avg10(from->avg10);
    to->set_avg60(from->avg60);
    to->set_avg300(from->avg300);
  }
}

void fill_cpu(const container::CgroupUsage& u, int64_t at, v1::CpuUsage* cpu) {
  cpu->set_timestamp(at);
  set(cpu->mutable_usage_core_nano_seconds(), u.stats.cpu.total_ns);
  if (u.nano_cores) set(cpu->mutable_usage_nano_cores(), *u.nano_cores);
  if (u.stats.cpu_psi) fill_psi(*u.stats.cpu_psi, cpu->mutable_psi());
}

// IoUsage carries only pressure: set when the cgroup has it.
void fill_io(const oci::cgroups::Stats::Psi& psi, int64_t at, v1::IoUsage* io) {
  io->set_timestamp(at);
  fill_psi(psi, io->mutable_psi());
}

void fill_memory(const oci::cgroups::Stats& s, int64_t at, v1::MemoryUsage* m) {
  m->set_timestamp(at);
  set(m->mutable_working_set_bytes(), s.memory.working_set);
  // As kubelet's eviction reads it: what the limit leaves beyond the working set.
  if (s.memory.limit > 0)
    set(m->mutable_available_bytes(),
        s.memory.limit > s.memory.working_set ? s.memory.limit - s.memory.working_set : 0);
  set(m->mutable_usage_bytes(), s.memory.usage);
  set(m->mutable_rss_bytes(), s.memory.rss);
  set(m->mutable_page_faults(), s.memory.pgfault);
  set(m->mutable_major_page_faults(), s.memory.pgmajfault);
  if (s.memory_psi) fill_psi(*s.memory_psi, m->mutable_psi());
}

void fill_interface(const container::InterfaceCounters& c, v1::NetworkInterfaceUsage* u) {
  u->set_name(c.name);
  set(u->mutable_rx_bytes(), c.rx_bytes);
  set(u->mutable_rx_errors(), c.rx_errors);
  set(u->mutable_tx_bytes(), c.tx_bytes);
  set(u->mutable_tx_errors(), c.tx_errors);
}

}  // namespace

void to_stats(const container::Record& r, const container::ContainerUsage& u, v1::ContainerStats* out) {
  auto* a = out->mutable_attributes();
  a->set_id(r.id);
  *a->mutable_metadata() = r.config.metadata();
  *a->mutable_labels() = r.config.labels();
  *a->mutable_annotations() = r.config.annotations();
  if (u.cgroup) {
    fill_cpu(*u.cgroup, u.at, out->mutable_cpu());
    fill_memory(u.cgroup->stats, u.at, out->mutable_memory());
    const auto& mem = u.cgroup->stats.memory;
    out->mutable_swap()->set_timestamp(u.at);
    set(out->mutable_swap()->mutable_swap_usage_bytes(), mem.swap);
    if (mem.swap_limit > 0)
      set(out->mutable_swap()->mutable_swap_available_bytes(), mem.swap_limit > mem.swap ? mem.swap_limit - mem.swap : 0);
    if (u.cgroup->stats.io_psi) fill_io(*u.cgroup->stats.io_psi, u.at, out->mutable_io());
  }
  // Present (empty) also without figures, as it always was.
  auto* fsu = out->mutable_writable_layer();
  if (const auto& w = u.writable_layer) {
    fsu->set_timestamp(w->at);
    fsu->mutable_fs_id()->set_mountpoint(w->mountpoint);
    set(fsu->mutable_used_bytes(), w->bytes);
    set(fsu->mutable_inodes_used(), w->inodes);
  }
}

void to_stats(const sandbox::Record& pod, const std::vector<container::Record>& containers,
              const container::PodUsage& u, v1::PodSandboxStats* out) {
  auto* a = out->mutable_attributes();
  a->set_id(pod.id);
  auto* md = a->mutable_metadata();
  md->set_name(pod.spec.name);
  md->set_uid(pod.spec.uid);
  md->set_namespace_(pod.spec.namespace_);
  md->set_attempt(pod.spec.attempt);
  a->mutable_labels()->insert(pod.spec.labels.begin(), pod.spec.labels.end());
  a->mutable_annotations()->insert(pod.spec.annotations.begin(), pod.spec.annotations.end());

  auto* lx = out->mutable_linux();
  if (u.cgroup) {
    fill_cpu(*u.cgroup, u.at, lx->mutable_cpu());
    fill_memory(u.cgroup->stats, u.at, lx->mutable_memory());
    lx->mutable_process()->set_timestamp(u.at);
    set(lx->mutable_process()->mutable_process_count(), u.cgroup->stats.pids.current);
    if (u.cgroup->stats.io_psi) fill_io(*u.cgroup->stats.io_psi, u.at, lx->mutable_io());
  }
  if (u.network) {
    auto* n = lx->mutable_network();
    n->set_timestamp(u.at);
    for (const auto& c : *u.network) {
      if (c.name == "eth0") fill_interface(c, n->mutable_default_interface());
      fill_interface(c, n->add_interfaces());
    }
  }
  for (std::size_t i = 0; i < containers.size() && i < u.containers.size(); ++i)
    to_stats(containers[i], u.containers[i], lx->add_containers());
}

bool matches(const container::Record& r, const v1::ContainerStatsFilter& f) { return container_filter_match(r, f); }

bool matches(const sandbox::Record& r, const v1::PodSandboxStatsFilter& f) { return sandbox_filter_match(r, f); }

}  // namespace crius::server
