// ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats:
// kubelet's CRI stats provider polls these. They read cgroup files and walk
// writable layers (container/stats.h), so they run on the work pool.
#include "server/services.h"
#include "server/stats_convert.h"

namespace crius::server {

namespace {

std::vector<container::Record> containers_of(const std::vector<container::Record>& all, const std::string& pod_id) {
  std::vector<container::Record> out;
  for (const auto& c : all)
    if (c.pod_id == pod_id) out.push_back(c);
  return out;
}

// Every container and pod now. The whole set is known here, so the CPU
// samples of those that are gone are forgotten.
struct Everything {
  std::vector<container::Record> containers;
  std::vector<sandbox::Record> pods;
};
Everything everything(container::Containers& containers, sandbox::Sandboxes& sandboxes,
                      container::StatsSampler& sampler) {
  Everything all{containers.list(), sandboxes.list()};
  sampler.keep_only(all.containers, all.pods);
  return all;
}

}  // namespace

grpc::ServerUnaryReactor* RuntimeService::ContainerStats(grpc::CallbackServerContext* ctx,
                                                         const v1::ContainerStatsRequest* req,
                                                         v1::ContainerStatsResponse* res) {
  return rpc_.blocking(ctx, "ContainerStats", [this, req, res] {
    const container::Record r = containers_.get(req->container_id());
    to_stats(r, stats_.container(r, *config_.get()), res->mutable_stats());
  });
}

grpc::ServerUnaryReactor* RuntimeService::ListContainerStats(grpc::CallbackServerContext* ctx,
                                                             const v1::ListContainerStatsRequest* req,
                                                             v1::ListContainerStatsResponse* res) {
  return rpc_.blocking(ctx, "ListContainerStats", [this, req, res] {
    auto config = config_.get();
    for (const auto& r : everything(containers_, sandboxes_, stats_).containers)
      if (!req->has_filter() || matches(r, req->filter())) to_stats(r, stats_.container(r, *config), res->add_stats());
  });
}

grpc::ServerUnaryReactor* RuntimeService::PodSandboxStats(grpc::CallbackServerContext* ctx,
                                                          const v1::PodSandboxStatsRequest* req,
                                                          v1::PodSandboxStatsResponse* res) {
  return rpc_.blocking(ctx, "PodSandboxStats", [this, req, res] {
    const sandbox::Record pod = sandboxes_.get(req->pod_sandbox_id());
    const auto containers = containers_of(containers_.list(), pod.id);
    to_stats(pod, containers, stats_.pod(pod, containers, *config_.get()), res->mutable_stats());
  });
}

grpc::ServerUnaryReactor* RuntimeService::ListPodSandboxStats(grpc::CallbackServerContext* ctx,
                                                              const v1::ListPodSandboxStatsRequest* req,
                                                              v1::ListPodSandboxStatsResponse* res) {
  return rpc_.blocking(ctx, "ListPodSandboxStats", [this, req, res] {
    auto config = config_.get();
    const Everything all = everything(containers_, sandboxes_, stats_);
    for (const auto& pod : all.pods) {
      if (req->has_filter() && !matches(pod, req->filter())) continue;
      const auto containers = containers_of(all.containers, pod.id);
      to_stats(pod, containers, stats_.pod(pod, containers, *config), res->add_stats());
    }
  });
}

}  // namespace crius::server
