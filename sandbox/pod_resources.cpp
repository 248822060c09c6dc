// UpdatePodSandboxResources on the sandbox side: the pod's own cgroup (the
// cgroup_parent it was run with) gets the new limits live, written through
// cgroupfs as UpdateContainerResources writes a container's (with the
// systemd driver too), and the record keeps them across restarts. A pod
// without a cgroup of its own (no cgroup_parent: kubelet without
// --cgroups-per-qos) only has them recorded, which is all containerd and
// cri-o do for any pod, kubelet owning the pod cgroups.
#include "base/error.h"
#include "base/log.h"
#include "oci/cgroups/cgroup.h"
#include "sandbox/sandboxes.h"

namespace crius::sandbox {
namespace {

void write_pod_cgroup(const Record& r, const nlohmann::json& resources) {
  oci::cgroups::Cgroup cgroup(oci::cgroups::resolve_here(r.cgroup_parent));
  if (!cgroup.exists())
    throw FailedPrecondition("the cgroup " + r.cgroup_parent + " of pod sandbox " + r.id + " no longer exists");
  cgroup.apply(oci::cgroups::parse_resources(resources), true);
}

}  // namespace

void Sandboxes::update_resources(const std::string& id, nlohmann::json requested, const nlohmann::json& cgroup) {
  auto e = find(id);
  std::lock_guard op(e->op);
  {
    std::lock_guard lock(mu_);
    if (!sandboxes_.count(e->rec.id)) throw NotFound("pod sandbox " + id + " was removed");
  }
  Record next = e->rec;
  if (next.state != State::ready)
    throw FailedPrecondition("pod sandbox " + next.id + " is not ready; its resources cannot be updated");
  if (next.cgroup_parent.empty()) {
    log::debug("pod sandbox has no cgroup of its own; its resources are only recorded", {{"id", next.id}});
  } else {
    write_pod_cgroup(next, cgroup);
    requested["cgroup"] = cgroup;
  }
  next.pod_resources = std::move(requested);
  save(records_dir_, next);
  {
    std::lock_guard lock(mu_);
    e->rec = std::move(next);
  }
  log::info("pod sandbox resources updated", {{"id", e->rec.id}});
}

}  // namespace crius::sandbox
