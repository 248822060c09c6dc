// ContainerStatus and ListContainers: the in-memory records, brought up to
// date from the monitors' exit files; they answer inline (kubelet polls them).
#include <chrono>

#include "server/container_convert.h"
#include "server/services.h"

namespace crius::server {

grpc::ServerUnaryReactor* RuntimeService::ContainerStatus(grpc::CallbackServerContext* ctx,
                                                          const v1::ContainerStatusRequest* req,
                                                          v1::ContainerStatusResponse* res) {
  return rpc_.fast(ctx, "ContainerStatus", [this, req, res] {
    container::Record r = containers_.get(req->container_id());
    to_status(r, res->mutable_status());
    if (req->verbose()) (*res->mutable_info())["info"] = verbose_info(r);
  });
}

grpc::ServerUnaryReactor* RuntimeService::ListContainers(grpc::CallbackServerContext* ctx,
                                                         const v1::ListContainersRequest* req,
                                                         v1::ListContainersResponse* res) {
  return rpc_.fast(ctx, "ListContainers", [this, req, res] {
    for (const auto& r : containers_.list())
      if (!req->has_filter() || matches(r, req->filter())) to_list_item(r, res->add_containers());
  });
}

}  // namespace crius::server
