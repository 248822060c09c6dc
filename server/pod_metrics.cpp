// ListMetricDescriptors, ListPodSandboxMetrics and StreamPodSandboxMetrics:
// kubelet's CRI metrics collector (/metrics/cadvisor without cAdvisor) asks
// for the descriptors once and for the metrics on every scrape. The metrics
// come from the stats cache (container/stats_cache.h), which may sample
// cgroup files, writable layers and network namespaces, so they run on the
// work pool.
#include "server/metric_descriptors.h"
#include "server/pod_metrics_convert.h"
#include "server/services.h"
#include "server/stream_batches.h"

namespace crius::server {

namespace {

// The metrics of every ready pod and its running containers: what cAdvisor
// would still find. A cgroup that cannot be read leaves out only its own
// figures (the sampler logs it).
template <class Add>
void each_pod_metrics(container::Containers& containers, sandbox::Sandboxes& sandboxes, container::StatsCache& cache,
                      Add add) {
  const auto pass = cache.begin();
  const std::vector<container::Record> all = containers.list();
  const std::vector<sandbox::Record> pods = sandboxes.list();
  for (const auto& pod : pods) {
    if (pod.state != sandbox::State::ready) continue;
    std::vector<container::Record> running;
    for (const auto& c : all)
      if (c.pod_id == pod.id && c.state == container::State::running) running.push_back(c);
    v1::PodSandboxMetrics metrics;
    to_metrics(pod, running, cache.pod(pass, pod, running), &metrics);
    add(std::move(metrics));
  }
}

}  // namespace

grpc::ServerUnaryReactor* RuntimeService::ListMetricDescriptors(grpc::CallbackServerContext* ctx,
                                                                const v1::ListMetricDescriptorsRequest*,
                                                                v1::ListMetricDescriptorsResponse* res) {
  return rpc_.fast(ctx, "ListMetricDescriptors", [res] { list_descriptors(res->mutable_descriptors()); });
}

grpc::ServerUnaryReactor* RuntimeService::ListPodSandboxMetrics(grpc::CallbackServerContext* ctx,
                                                                const v1::ListPodSandboxMetricsRequest*,
                                                                v1::ListPodSandboxMetricsResponse* res) {
  return rpc_.blocking(ctx, "ListPodSandboxMetrics", [this, res] {
    each_pod_metrics(containers_, sandboxes_, stats_cache_,
                     [&](v1::PodSandboxMetrics&& m) { *res->add_pod_metrics() = std::move(m); });
  });
}

grpc::ServerWriteReactor<v1::StreamPodSandboxMetricsResponse>* RuntimeService::StreamPodSandboxMetrics(
    grpc::CallbackServerContext*, const v1::StreamPodSandboxMetricsRequest*) {
  using Response = v1::StreamPodSandboxMetricsResponse;
  return BatchWriter<Response>::blocking(rpc_, "StreamPodSandboxMetrics", [this](Batches<Response>& out) {
    each_pod_metrics(containers_, sandboxes_, stats_cache_, [&](v1::PodSandboxMetrics&& m) {
      out.add(&Response::add_pod_sandbox_metrics, [&](v1::PodSandboxMetrics* item) { *item = std::move(m); });
    });
  });
}

}  // namespace crius::server
