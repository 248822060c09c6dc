// linux.resources → cgroup v2 controller files.
#include "base/error.h"
#include "oci/cgroups/resources.h"

namespace crius::oci::cgroups {
namespace {

std::string dev(const BlockDevice& d) { return std::to_string(d.major) + ":" + std::to_string(d.minor); }
std::string max_or(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

}  // namespace

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

std::optional<int64_t> swap_to_v2(int64_t swap, int64_t limit) {
  // As runc: with memory unlimited and swap unset, swap is unlimited too.
  if (limit == -1 && swap == 0) return -1;
  if (swap == -1) return -1;
  if (swap == 0) return std::nullopt;
  if (limit == 0 || limit == -1)
    throw InvalidArgument("linux.resources.memory.swap: a swap limit needs a memory limit");
  if (swap < limit)
    throw InvalidArgument("linux.resources.memory.swap: memory+swap " + std::to_string(swap) +
                          " is below the memory limit " + std::to_string(limit));
  return swap - limit;
}

std::vector<Write> v2_writes(const Resources& r, std::vector<std::string>& warnings, bool has_bfq) {
  std::vector<Write> w;
  auto add = [&](const std::string& f, const std::string& v) { w.push_back({"", f, v}); };
  if (r.cpu) {
    const auto& c = *r.cpu;
    if (c.shares && *c.shares) add("cpu.weight", std::to_string(shares_to_weight(*c.shares)));
    if ((c.quota && *c.quota != 0) || (c.period && *c.period != 0)) {
      std::string v = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      if (c.period && *c.period) v += " " + std::to_string(*c.period);
      add("cpu.max", v);
    }
    if (c.burst) add("cpu.max.burst", std::to_string(*c.burst));
    if (c.idle) add("cpu.idle", std::to_string(*c.idle));
    if ((c.realtime_runtime && *c.realtime_runtime) || (c.realtime_period && *c.realtime_period))
      throw InvalidArgument("linux.resources.cpu.realtimeRuntime: realtime scheduling is not supported on cgroup v2");
    if (!c.cpus.empty()) add("cpuset.cpus", c.cpus);
    if (!c.mems.empty()) add("cpuset.mems", c.mems);
  }
  if (r.memory) {
    const auto& m = *r.memory;
    const int64_t limit = m.limit.value_or(0);
    // swap.max first: lowering memory.max below usage reclaims into swap.
    if (m.swap || m.limit) {
      auto s = swap_to_v2(m.swap.value_or(0), limit);
      if (s) w.push_back({"", "memory.swap.max", max_or(*s), *s == -1});
    }
    if (m.limit && *m.limit != 0) add("memory.max", max_or(*m.limit));
    if (m.reservation && *m.reservation != 0) add("memory.low", max_or(*m.reservation));
    if (m.kernel || m.kernel_tcp) warnings.push_back("linux.resources.memory.kernel and kernelTCP are ignored (deprecated)");
    if (m.swappiness) warnings.push_back("linux.resources.memory.swappiness is ignored on cgroup v2");
    if (m.disable_oom_killer && *m.disable_oom_killer)
      warnings.push_back("linux.resources.memory.disableOOMKiller is ignored on cgroup v2");
  }
  if (r.pids_limit && *r.pids_limit != 0) add("pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
  if (r.block_io) {
    const auto& b = *r.block_io;
    const std::string wf = has_bfq ? "io.bfq.weight" : "io.weight";
    auto weight = [&](uint64_t x) { return std::to_string(has_bfq ? x : blkio_to_io_weight(x)); };
    if (b.weight && *b.weight) add(wf, weight(*b.weight));
    if (b.leaf_weight && *b.leaf_weight) warnings.push_back("linux.resources.blockIO.leafWeight is ignored on cgroup v2");
    for (const auto& d : b.weight_device)
      if (d.weight) add(wf, dev(d) + " " + weight(*d.weight));
    for (const auto& d : b.read_bps) add("io.max", dev(d) + " rbps=" + std::to_string(d.rate));
    for (const auto& d : b.write_bps) add("io.max", dev(d) + " wbps=" + std::to_string(d.rate));
    for (const auto& d : b.read_iops) add("io.max", dev(d) + " riops=" + std::to_string(d.rate));
    for (const auto& d : b.write_iops) add("io.max", dev(d) + " wiops=" + std::to_string(d.rate));
  }
  for (const auto& [size, limit] : r.hugepage_limits) add("hugetlb." + size + ".max", std::to_string(limit));
  for (const auto& [devname, lim] : r.rdma) {
    std::string v = devname;
    if (lim.hca_handles) v += " hca_handle=" + std::to_string(*lim.hca_handles);
    if (lim.hca_objects) v += " hca_object=" + std::to_string(*lim.hca_objects);
    if (lim.hca_handles || lim.hca_objects) add("rdma.max", v);
  }
  if (r.network && (r.network->class_id || !r.network->priorities.empty()))
    warnings.push_back("linux.resources.network is ignored on cgroup v2 (no net_cls/net_prio controllers)");
  // Last, so that an explicit unified value wins over a converted one.
  for (const auto& [f, v] : r.unified) add(f, v);
  return w;
}

}  // namespace crius::oci::cgroups
