// ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats
// and their Stream* forms: kubelet's CRI stats provider polls these. All
// read the cgroups now; the List and Stream forms take the writable layers'
// usage from the cache (container/stats_cache.h), walked in the background
// while they are asked for, and the single-item forms (a person's crictl,
// mostly) walk it now. Both are file system work, so all of them run on the
// work pool.
#include "server/services.h"
#include "server/stats_convert.h"
#include "server/stream_batches.h"

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

container::StatsCache::Source RuntimeService::stats_source() {
  return {
      .list = [this] { return containers_.list(); },
      .cgroup = [this](const container::Record& r) { return stats_.cgroup(r, *config_.get()); },
      .layer = [this](const container::Record& r) { return stats_.layer(r); },
      .pod = [this](const sandbox::Record& pod,
                    std::vector<container::ContainerUsage> samples) { return stats_.pod(pod, std::move(samples)); },
      .period = [this] { return config_.get()->runtime.disk_usage_period; },
  };
}

template <class Add>
void RuntimeService::each_container_stats(const v1::ContainerStatsFilter* filter, Add add) {
  const auto pass = stats_cache_.begin();
  for (const auto& r : everything(containers_, sandboxes_, stats_).containers)
    if (!filter || matches(r, *filter)) add(r, stats_cache_.container(pass, r));
}

template <class Add>
void RuntimeService::each_pod_stats(const v1::PodSandboxStatsFilter* filter, Add add) {
  const auto pass = stats_cache_.begin();
  const Everything all = everything(containers_, sandboxes_, stats_);
  for (const auto& pod : all.pods) {
    if (filter && !matches(pod, *filter)) continue;
    const auto containers = containers_of(all.containers, pod.id);
    add(pod, containers, stats_cache_.pod(pass, pod, containers));
  }
}

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
    each_container_stats(req->has_filter() ? &req->filter() : nullptr,
                         [&](const container::Record& r, const auto& sample) { to_stats(r, sample, res->add_stats()); });
  });
}

grpc::ServerWriteReactor<v1::StreamContainerStatsResponse>* RuntimeService::StreamContainerStats(
    grpc::CallbackServerContext*, const v1::StreamContainerStatsRequest* req) {
  using Response = v1::StreamContainerStatsResponse;
  return BatchWriter<Response>::blocking(rpc_, "StreamContainerStats", [this, req](Batches<Response>& out) {
    each_container_stats(req->has_filter() ? &req->filter() : nullptr,
                         [&](const container::Record& r, const auto& sample) {
                           out.add(&Response::add_container_stats, [&](auto* item) { to_stats(r, sample, item); });
                         });
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
    each_pod_stats(req->has_filter() ? &req->filter() : nullptr,
                   [&](const sandbox::Record& pod, const auto& containers, const auto& sample) {
                     to_stats(pod, containers, sample, res->add_stats());
                   });
  });
}

grpc::ServerWriteReactor<v1::StreamPodSandboxStatsResponse>* RuntimeService::StreamPodSandboxStats(
    grpc::CallbackServerContext*, const v1::StreamPodSandboxStatsRequest* req) {
  using Response = v1::StreamPodSandboxStatsResponse;
  return BatchWriter<Response>::blocking(rpc_, "StreamPodSandboxStats", [this, req](Batches<Response>& out) {
    each_pod_stats(req->has_filter() ? &req->filter() : nullptr,
                   [&](const sandbox::Record& pod, const auto& containers, const auto& sample) {
                     out.add(&Response::add_pod_sandbox_stats,
                             [&](auto* item) { to_stats(pod, containers, sample, item); });
                   });
  });
}

}  // namespace crius::server
