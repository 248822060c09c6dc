// linux.resources → cgroup v1 controller files.
#include "base/error.h"
#include "oci/cgroups/resources.h"

namespace crius::oci::cgroups {
namespace {

std::string dev(const BlockDevice& d) { return std::to_string(d.major) + ":" + std::to_string(d.minor); }

}  // namespace

std::vector<Write> v1_writes(const Resources& r, std::vector<std::string>& warnings) {
  if (!r.unified.empty())
    throw InvalidArgument("linux.resources.unified: cgroup v2 files cannot be set on a cgroup v1 host");
  std::vector<Write> w;
  auto add = [&](const std::string& c, const std::string& f, const std::string& v) { w.push_back({c, f, v}); };
  if (r.cpu) {
    const auto& c = *r.cpu;
    if (c.shares && *c.shares) add("cpu", "cpu.shares", std::to_string(*c.shares));
    // Period before quota: the kernel checks quota against the period.
    if (c.period && *c.period) add("cpu", "cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota && *c.quota) add("cpu", "cpu.cfs_quota_us", std::to_string(*c.quota));
    if (c.burst) add("cpu", "cpu.cfs_burst_us", std::to_string(*c.burst));
    if (c.realtime_period && *c.realtime_period) add("cpu", "cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (c.realtime_runtime && *c.realtime_runtime) add("cpu", "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
    if (c.idle) add("cpu", "cpu.idle", std::to_string(*c.idle));
    if (!c.cpus.empty()) add("cpuset", "cpuset.cpus", c.cpus);
    if (!c.mems.empty()) add("cpuset", "cpuset.mems", c.mems);
  }
  if (r.memory) {
    const auto& m = *r.memory;
    // Cgroup::apply orders limit and memsw so that limit <= memsw holds at
    // every step.
    if (m.limit && *m.limit) add("memory", "memory.limit_in_bytes", std::to_string(*m.limit));
    if (m.swap && *m.swap) add("memory", "memory.memsw.limit_in_bytes", std::to_string(*m.swap));
    if (m.reservation && *m.reservation) add("memory", "memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.swappiness) add("memory", "memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer && *m.disable_oom_killer) add("memory", "memory.oom_control", "1");
    if (m.kernel || m.kernel_tcp) warnings.push_back("linux.resources.memory.kernel and kernelTCP are ignored (deprecated)");
  }
  if (r.pids_limit && *r.pids_limit != 0)
    add("pids", "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
  if (r.block_io) {
    const auto& b = *r.block_io;
    if (b.weight && *b.weight) add("blkio", "blkio.weight", std::to_string(*b.weight));
    if (b.leaf_weight && *b.leaf_weight) add("blkio", "blkio.leaf_weight", std::to_string(*b.leaf_weight));
    for (const auto& d : b.weight_device) {
      if (d.weight) add("blkio", "blkio.weight_device", dev(d) + " " + std::to_string(*d.weight));
      if (d.leaf_weight) add("blkio", "blkio.leaf_weight_device", dev(d) + " " + std::to_string(*d.leaf_weight));
    }
    for (const auto& d : b.read_bps) add("blkio", "blkio.throttle.read_bps_device", dev(d) + " " + std::to_string(d.rate));
    for (const auto& d : b.write_bps) add("blkio", "blkio.throttle.write_bps_device", dev(d) + " " + std::to_string(d.rate));
    for (const auto& d : b.read_iops) add("blkio", "blkio.throttle.read_iops_device", dev(d) + " " + std::to_string(d.rate));
    for (const auto& d : b.write_iops)
      add("blkio", "blkio.throttle.write_iops_device", dev(d) + " " + std::to_string(d.rate));
  }
  for (const auto& [size, limit] : r.hugepage_limits)
    add("hugetlb", "hugetlb." + size + ".limit_in_bytes", std::to_string(limit));
  if (r.network) {
    if (r.network->class_id) add("net_cls", "net_cls.classid", std::to_string(*r.network->class_id));
    for (const auto& [name, prio] : r.network->priorities)
      add("net_prio", "net_prio.ifpriomap", name + " " + std::to_string(prio));
  }
  for (const auto& [devname, lim] : r.rdma) {
    std::string v = devname;
    if (lim.hca_handles) v += " hca_handle=" + std::to_string(*lim.hca_handles);
    if (lim.hca_objects) v += " hca_object=" + std::to_string(*lim.hca_objects);
    if (lim.hca_handles || lim.hca_objects) add("rdma", "rdma.max", v);
  }
  return w;
}

}  // namespace crius::oci::cgroups
