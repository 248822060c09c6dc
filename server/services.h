// The two CRI services. Each RPC group is defined in its own source file
// (runtime_info.cpp, …); RPCs that later issues build are listed in
// unimplemented.h and answer UNIMPLEMENTED naming themselves. Each Stream*
// RPC is defined next to its List counterpart and answers the same items in
// batches (stream_batches.h).
//
// Include this before <csignal>/<sys/wait.h>: the CRI `Signal` enum has values
// named SIGKILL, SIGTERM… that those headers' macros would rewrite.
#pragma once

#include "api/cri.grpc.pb.h"
#include "cni/network.h"
#include "container/containers.h"
#include "container/stats.h"
#include "container/stats_cache.h"
#include "image/images.h"
#include "sandbox/sandboxes.h"
#include "server/config_store.h"
#include "server/container_events.h"
#include "server/rpc.h"
#include "server/streaming/server.h"
#include "server/unimplemented.h"

namespace crius::server {

namespace v1 = ::runtime::v1;

class RuntimeService final : public v1::RuntimeService::CallbackService {
 public:
  RuntimeService(ConfigStore& config, Rpc& rpc, sandbox::Sandboxes& sandboxes, container::Containers& containers,
                 cni::Cni& cni, streaming::Server& streams, ContainerEvents& events, const image::Images& images)
      : config_(config),
        rpc_(rpc),
        sandboxes_(sandboxes),
        containers_(containers),
        cni_(cni),
        streams_(streams),
        events_(events),
        stats_(images),
        stats_cache_(stats_source()) {}

  grpc::ServerUnaryReactor* Version(grpc::CallbackServerContext*, const v1::VersionRequest*,
                                    v1::VersionResponse*) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext*, const v1::StatusRequest*,
                                   v1::StatusResponse*) override;
  grpc::ServerUnaryReactor* RuntimeConfig(grpc::CallbackServerContext*, const v1::RuntimeConfigRequest*,
                                          v1::RuntimeConfigResponse*) override;
  // The node's pod CIDR, for CNI (runtime_config.cpp).
  grpc::ServerUnaryReactor* UpdateRuntimeConfig(grpc::CallbackServerContext*, const v1::UpdateRuntimeConfigRequest*,
                                                v1::UpdateRuntimeConfigResponse*) override;

  // Pod sandboxes (sandbox_lifecycle.cpp, sandbox_status.cpp).
  grpc::ServerUnaryReactor* RunPodSandbox(grpc::CallbackServerContext*, const v1::RunPodSandboxRequest*,
                                          v1::RunPodSandboxResponse*) override;
  grpc::ServerUnaryReactor* StopPodSandbox(grpc::CallbackServerContext*, const v1::StopPodSandboxRequest*,
                                           v1::StopPodSandboxResponse*) override;
  grpc::ServerUnaryReactor* RemovePodSandbox(grpc::CallbackServerContext*, const v1::RemovePodSandboxRequest*,
                                             v1::RemovePodSandboxResponse*) override;
  grpc::ServerUnaryReactor* PodSandboxStatus(grpc::CallbackServerContext*, const v1::PodSandboxStatusRequest*,
                                             v1::PodSandboxStatusResponse*) override;
  // In-place pod resize (sandbox_resources.cpp).
  grpc::ServerUnaryReactor* UpdatePodSandboxResources(grpc::CallbackServerContext*,
                                                      const v1::UpdatePodSandboxResourcesRequest*,
                                                      v1::UpdatePodSandboxResourcesResponse*) override;
  grpc::ServerUnaryReactor* ListPodSandbox(grpc::CallbackServerContext*, const v1::ListPodSandboxRequest*,
                                           v1::ListPodSandboxResponse*) override;
  grpc::ServerWriteReactor<v1::StreamPodSandboxesResponse>* StreamPodSandboxes(
      grpc::CallbackServerContext*, const v1::StreamPodSandboxesRequest*) override;

  // Containers (container_lifecycle.cpp, container_status.cpp, container_exec.cpp).
  grpc::ServerUnaryReactor* CreateContainer(grpc::CallbackServerContext*, const v1::CreateContainerRequest*,
                                            v1::CreateContainerResponse*) override;
  grpc::ServerUnaryReactor* StartContainer(grpc::CallbackServerContext*, const v1::StartContainerRequest*,
                                           v1::StartContainerResponse*) override;
  grpc::ServerUnaryReactor* StopContainer(grpc::CallbackServerContext*, const v1::StopContainerRequest*,
                                          v1::StopContainerResponse*) override;
  grpc::ServerUnaryReactor* RemoveContainer(grpc::CallbackServerContext*, const v1::RemoveContainerRequest*,
                                            v1::RemoveContainerResponse*) override;
  grpc::ServerUnaryReactor* ContainerStatus(grpc::CallbackServerContext*, const v1::ContainerStatusRequest*,
                                            v1::ContainerStatusResponse*) override;
  grpc::ServerUnaryReactor* ListContainers(grpc::CallbackServerContext*, const v1::ListContainersRequest*,
                                           v1::ListContainersResponse*) override;
  grpc::ServerWriteReactor<v1::StreamContainersResponse>* StreamContainers(
      grpc::CallbackServerContext*, const v1::StreamContainersRequest*) override;
  grpc::ServerUnaryReactor* ExecSync(grpc::CallbackServerContext*, const v1::ExecSyncRequest*,
                                     v1::ExecSyncResponse*) override;
  grpc::ServerUnaryReactor* ReopenContainerLog(grpc::CallbackServerContext*, const v1::ReopenContainerLogRequest*,
                                               v1::ReopenContainerLogResponse*) override;
  grpc::ServerUnaryReactor* UpdateContainerResources(grpc::CallbackServerContext*,
                                                     const v1::UpdateContainerResourcesRequest*,
                                                     v1::UpdateContainerResourcesResponse*) override;
  // Events (container_events.cpp keeps the subscribers).
  grpc::ServerWriteReactor<v1::ContainerEventResponse>* GetContainerEvents(grpc::CallbackServerContext*,
                                                                           const v1::GetEventsRequest*) override;

  // Streaming: the URLs of the streaming server (stream_urls.cpp).
  grpc::ServerUnaryReactor* Exec(grpc::CallbackServerContext*, const v1::ExecRequest*, v1::ExecResponse*) override;
  grpc::ServerUnaryReactor* Attach(grpc::CallbackServerContext*, const v1::AttachRequest*,
                                   v1::AttachResponse*) override;
  grpc::ServerUnaryReactor* PortForward(grpc::CallbackServerContext*, const v1::PortForwardRequest*,
                                        v1::PortForwardResponse*) override;
  // Stats (stats.cpp).
  grpc::ServerUnaryReactor* ContainerStats(grpc::CallbackServerContext*, const v1::ContainerStatsRequest*,
                                           v1::ContainerStatsResponse*) override;
  grpc::ServerUnaryReactor* ListContainerStats(grpc::CallbackServerContext*, const v1::ListContainerStatsRequest*,
                                               v1::ListContainerStatsResponse*) override;
  grpc::ServerUnaryReactor* PodSandboxStats(grpc::CallbackServerContext*, const v1::PodSandboxStatsRequest*,
                                            v1::PodSandboxStatsResponse*) override;
  grpc::ServerUnaryReactor* ListPodSandboxStats(grpc::CallbackServerContext*, const v1::ListPodSandboxStatsRequest*,
                                                v1::ListPodSandboxStatsResponse*) override;
  grpc::ServerWriteReactor<v1::StreamContainerStatsResponse>* StreamContainerStats(
      grpc::CallbackServerContext*, const v1::StreamContainerStatsRequest*) override;
  grpc::ServerWriteReactor<v1::StreamPodSandboxStatsResponse>* StreamPodSandboxStats(
      grpc::CallbackServerContext*, const v1::StreamPodSandboxStatsRequest*) override;
  // Pod metrics (pod_metrics.cpp).
  grpc::ServerUnaryReactor* ListMetricDescriptors(grpc::CallbackServerContext*, const v1::ListMetricDescriptorsRequest*,
                                                  v1::ListMetricDescriptorsResponse*) override;
  grpc::ServerUnaryReactor* ListPodSandboxMetrics(grpc::CallbackServerContext*, const v1::ListPodSandboxMetricsRequest*,
                                                  v1::ListPodSandboxMetricsResponse*) override;
  grpc::ServerWriteReactor<v1::StreamPodSandboxMetricsResponse>* StreamPodSandboxMetrics(
      grpc::CallbackServerContext*, const v1::StreamPodSandboxMetricsRequest*) override;

  CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED(CRIUS_DECLARE_UNARY)
  CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED_STREAMS(CRIUS_DECLARE_SERVER_STREAM)

 private:
  ConfigStore& config_;
  Rpc& rpc_;
  sandbox::Sandboxes& sandboxes_;
  container::Containers& containers_;
  cni::Cni& cni_;
  streaming::Server& streams_;
  ContainerEvents& events_;
  container::StatsSampler stats_;  // keeps the previous CPU sample per container and pod
  container::StatsCache stats_cache_;  // what the List RPCs answer; its refresh reads the members above

  // The cache's sources: the stores, the sampler and the config (stats.cpp).
  container::StatsCache::Source stats_source();
  // The stats of every container (pod) the filter selects, from the cache (stats.cpp).
  template <class Add>
  void each_container_stats(const v1::ContainerStatsFilter* filter, Add add);
  template <class Add>
  void each_pod_stats(const v1::PodSandboxStatsFilter* filter, Add add);
};

class ImageService final : public v1::ImageService::CallbackService {
 public:
  ImageService(ConfigStore& config, Rpc& rpc, image::Images& images, metrics::Registry& metrics)
      : config_(config), rpc_(rpc), images_(images), metrics_(metrics) {}

  // Image RPCs (image_pull.cpp, image_query.cpp, image_remove.cpp).
  grpc::ServerUnaryReactor* ListImages(grpc::CallbackServerContext*, const v1::ListImagesRequest*,
                                       v1::ListImagesResponse*) override;
  grpc::ServerUnaryReactor* ImageStatus(grpc::CallbackServerContext*, const v1::ImageStatusRequest*,
                                        v1::ImageStatusResponse*) override;
  grpc::ServerUnaryReactor* PullImage(grpc::CallbackServerContext*, const v1::PullImageRequest*,
                                      v1::PullImageResponse*) override;
  grpc::ServerUnaryReactor* RemoveImage(grpc::CallbackServerContext*, const v1::RemoveImageRequest*,
                                        v1::RemoveImageResponse*) override;
  grpc::ServerUnaryReactor* ImageFsInfo(grpc::CallbackServerContext*, const v1::ImageFsInfoRequest*,
                                        v1::ImageFsInfoResponse*) override;
  grpc::ServerWriteReactor<v1::StreamImagesResponse>* StreamImages(grpc::CallbackServerContext*,
                                                                   const v1::StreamImagesRequest*) override;

  CRIUS_IMAGE_SERVICE_UNIMPLEMENTED(CRIUS_DECLARE_UNARY)
  CRIUS_IMAGE_SERVICE_UNIMPLEMENTED_STREAMS(CRIUS_DECLARE_SERVER_STREAM)

 private:
  ConfigStore& config_;
  Rpc& rpc_;
  image::Images& images_;
  metrics::Registry& metrics_;
};

}  // namespace crius::server
