// linux.resources from the CRI's LinuxContainerResources (zero means unset,
// as kubelet sends it), and the process's oom_score_adj.
#include "base/error.h"
#include "base/log.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {

using nlohmann::json;

json resources(const ::runtime::v1::LinuxContainerResources& r, const Defaults& d) {
  json out = json::object();
  json cpu = json::object();
  if (r.cpu_shares() < 0) throw InvalidArgument("resources.cpu_shares: must not be negative");
  if (r.cpu_period() < 0) throw InvalidArgument("resources.cpu_period: must not be negative");
  if (r.cpu_shares() > 0) cpu["shares"] = static_cast<uint64_t>(r.cpu_shares());
  if (r.cpu_quota() != 0) cpu["quota"] = r.cpu_quota();
  if (r.cpu_period() > 0) cpu["period"] = static_cast<uint64_t>(r.cpu_period());
  if (!r.cpuset_cpus().empty()) cpu["cpus"] = r.cpuset_cpus();
  if (!r.cpuset_mems().empty()) cpu["mems"] = r.cpuset_mems();
  if (!cpu.empty()) out["cpu"] = cpu;

  json mem = json::object();
  if (r.memory_limit_in_bytes() < 0) throw InvalidArgument("resources.memory_limit_in_bytes: must not be negative");
  if (r.memory_limit_in_bytes() > 0) mem["limit"] = r.memory_limit_in_bytes();
  // The CRI value is memory plus swap, which is what OCI's memory.swap means.
  if (r.memory_swap_limit_in_bytes() != 0) {
    if (r.memory_swap_limit_in_bytes() > 0 && r.memory_limit_in_bytes() > 0 &&
        r.memory_swap_limit_in_bytes() < r.memory_limit_in_bytes())
      throw InvalidArgument("resources.memory_swap_limit_in_bytes: " + std::to_string(r.memory_swap_limit_in_bytes()) +
                            " is below memory_limit_in_bytes " + std::to_string(r.memory_limit_in_bytes()));
    mem["swap"] = r.memory_swap_limit_in_bytes();
  }
  if (!mem.empty()) out["memory"] = mem;

  if (r.hugepage_limits_size() > 0) {
    json hp = json::array();
    for (const auto& h : r.hugepage_limits()) {
      if (h.page_size().empty()) throw InvalidArgument("resources.hugepage_limits: a limit has no page_size");
      hp.push_back({{"pageSize", h.page_size()}, {"limit", h.limit()}});
    }
    out["hugepageLimits"] = hp;
  }
  if (r.unified_size() > 0) {
    json u = json::object();
    for (const auto& [k, v] : r.unified()) {
      if (k.empty() || k.find('/') != std::string::npos || k.find("..") != std::string::npos)
        throw InvalidArgument("resources.unified: invalid cgroup file name \"" + k + "\"");
      u[k] = v;
    }
    out["unified"] = u;
  }
  if (d.pids_limit > 0) out["pids"] = {{"limit", d.pids_limit}};
  return out;
}

std::optional<int> oom_score_adj(const ::runtime::v1::LinuxContainerResources& r, const Defaults& d) {
  int64_t v = r.oom_score_adj();
  if (v < -1000 || v > 1000)
    throw InvalidArgument("resources.oom_score_adj: " + std::to_string(v) + " is outside [-1000, 1000]");
  if (v < d.daemon_oom_score_adj && !d.oom_score_adj_can_lower) {
    // Without CAP_SYS_RESOURCE the kernel refuses a value below our own.
    const std::string want = std::to_string(v), got = std::to_string(d.daemon_oom_score_adj);
    log::info("oom_score_adj clamped to the daemon's own", {{"requested", want}, {"applied", got}});
    v = d.daemon_oom_score_adj;
  }
  return static_cast<int>(v);
}

}  // namespace crius::oci::cri::detail
