// ContainerStatus, ListContainers and StreamContainers: the in-memory
// records, brought up to date from the monitors' exit files; they answer
// inline (kubelet polls them).
#include <chrono>
#include <optional>

#include "base/error.h"
#include "server/container_convert.h"
#include "server/services.h"
#include "server/status_details.h"
#include "server/stream_batches.h"

namespace crius::server {
namespace {

template <class Add>
void each_listed(container::Containers& containers, const v1::ContainerFilter* filter, Add add) {
  for (const auto& r : containers.list())
    if (!filter || matches(r, *filter)) add(r);
}

}  // namespace

grpc::ServerUnaryReactor* RuntimeService::ContainerStatus(grpc::CallbackServerContext* ctx,
                                                          const v1::ContainerStatusRequest* req,
                                                          v1::ContainerStatusResponse* res) {
  return rpc_.fast(ctx, "ContainerStatus", [this, req, res] {
    container::Record r = containers_.get(req->container_id());
    to_status(r, res->mutable_status());
    if (req->verbose()) {
      // verbose_info's keys, plus what the host says now (for `crius status containers ID`).
      nlohmann::json info = nlohmann::json::parse(verbose_info(r));
      std::optional<sandbox::Record> pod;
      try {
        pod = sandboxes_.get(r.pod_id);
      } catch (const Error&) {
        // A pod removed meanwhile: its namespaces are left out.
      }
      add_container_details(r, pod ? &*pod : nullptr, containers_.monitor_pid(r.monitor_dir), info);
      (*res->mutable_info())["info"] = info.dump();
    }
  });
}

grpc::ServerUnaryReactor* RuntimeService::ListContainers(grpc::CallbackServerContext* ctx,
                                                         const v1::ListContainersRequest* req,
                                                         v1::ListContainersResponse* res) {
  return rpc_.fast(ctx, "ListContainers", [this, req, res] {
    each_listed(containers_, req->has_filter() ? &req->filter() : nullptr,
                [&](const container::Record& r) { to_list_item(r, res->add_containers()); });
  });
}

grpc::ServerWriteReactor<v1::StreamContainersResponse>* RuntimeService::StreamContainers(
    grpc::CallbackServerContext*, const v1::StreamContainersRequest* req) {
  using Writer = BatchWriter<v1::StreamContainersResponse>;
  return Writer::fast(rpc_, "StreamContainers", [this, req](Batches<v1::StreamContainersResponse>& out) {
    each_listed(containers_, req->has_filter() ? &req->filter() : nullptr, [&](const container::Record& r) {
      out.add(&v1::StreamContainersResponse::add_containers, [&](auto* item) { to_list_item(r, item); });
    });
  });
}

}  // namespace crius::server
