// CreateContainer, StartContainer, StopContainer, RemoveContainer: they
// mount, talk to the pod's monitor and wait for processes, so they run on the
// work pool.
#include "base/error.h"
#include "server/cri_validate.h"
#include "server/services.h"

namespace crius::server {

grpc::ServerUnaryReactor* RuntimeService::CreateContainer(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateContainerRequest* req,
                                                          v1::CreateContainerResponse* res) {
  return rpc_.blocking(ctx, "CreateContainer", [this, req, res] {
    if (req->pod_sandbox_id().empty()) throw InvalidArgument("pod_sandbox_id is empty");
    if (!req->has_config()) throw InvalidArgument("container config is missing");
    auto config = config_.get();
    check_container_config(req->config(), *config);
    res->set_container_id(containers_.create(req->pod_sandbox_id(), req->config(), *config));
  });
}

grpc::ServerUnaryReactor* RuntimeService::StartContainer(grpc::CallbackServerContext* ctx,
                                                         const v1::StartContainerRequest* req,
                                                         v1::StartContainerResponse*) {
  return rpc_.blocking(ctx, "StartContainer", [this, req] { containers_.start(req->container_id()); });
}

grpc::ServerUnaryReactor* RuntimeService::StopContainer(grpc::CallbackServerContext* ctx,
                                                        const v1::StopContainerRequest* req,
                                                        v1::StopContainerResponse*) {
  return rpc_.blocking(ctx, "StopContainer", [this, req] {
    if (req->timeout() < 0) throw InvalidArgument("timeout must not be negative");
    containers_.stop(req->container_id(), std::chrono::seconds(req->timeout()));
  });
}

grpc::ServerUnaryReactor* RuntimeService::RemoveContainer(grpc::CallbackServerContext* ctx,
                                                          const v1::RemoveContainerRequest* req,
                                                          v1::RemoveContainerResponse*) {
  return rpc_.blocking(ctx, "RemoveContainer", [this, req] {
    if (req->container_id().empty()) throw InvalidArgument("container_id is empty");
    containers_.remove(req->container_id());
  });
}

}  // namespace crius::server
