// RunPodSandbox, StopPodSandbox, RemovePodSandbox: they create and tear down
// namespaces, mounts, cgroups and CNI attachments, so they run on the work pool.
#include "server/sandbox_convert.h"
#include "base/error.h"
#include "base/id_prefix.h"
#include "container/handlers.h"
#include "server/cri_validate.h"
#include "server/services.h"

namespace crius::server {

grpc::ServerUnaryReactor* RuntimeService::RunPodSandbox(grpc::CallbackServerContext* ctx,
                                                        const v1::RunPodSandboxRequest* req,
                                                        v1::RunPodSandboxResponse* res) {
  return rpc_.blocking(ctx, "RunPodSandbox", [this, req, res] {
    check_pod_config(req->config());
    auto config = config_.get();
    res->set_pod_sandbox_id(sandboxes_.run(to_pod_spec(req->config(), req->runtime_handler()), *config,
                                           [&](const std::string& handler) {
                                             container::require_user_namespaces(handler, *config);
                                           }));
  });
}

grpc::ServerUnaryReactor* RuntimeService::StopPodSandbox(grpc::CallbackServerContext* ctx,
                                                         const v1::StopPodSandboxRequest* req,
                                                         v1::StopPodSandboxResponse*) {
  return rpc_.blocking(ctx, "StopPodSandbox", [this, req] {
    auto config = config_.get();
    const auto id = unless_gone([&] { return sandboxes_.get(req->pod_sandbox_id()).id; });
    if (!id) return;
    // The pod's containers go first (kubelet normally stopped them already).
    containers_.stop_pod(*id);
    sandboxes_.stop(*id, *config);
  });
}

grpc::ServerUnaryReactor* RuntimeService::RemovePodSandbox(grpc::CallbackServerContext* ctx,
                                                           const v1::RemovePodSandboxRequest* req,
                                                           v1::RemovePodSandboxResponse*) {
  return rpc_.blocking(ctx, "RemovePodSandbox", [this, req] {
    auto config = config_.get();
    const auto id = unless_gone([&] { return sandboxes_.get(req->pod_sandbox_id()).id; });
    if (!id) return;
    containers_.remove_pod(*id);
    sandboxes_.remove(*id, *config);
  });
}

}  // namespace crius::server
