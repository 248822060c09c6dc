// PodSandboxStatus and ListPodSandbox: read the in-memory records only, so
// they answer inline (kubelet polls them).
#include "base/clock.h"
#include "server/sandbox_convert.h"
#include "server/services.h"

namespace crius::server {

grpc::ServerUnaryReactor* RuntimeService::PodSandboxStatus(grpc::CallbackServerContext* ctx,
                                                           const v1::PodSandboxStatusRequest* req,
                                                           v1::PodSandboxStatusResponse* res) {
  return rpc_.fast(ctx, "PodSandboxStatus", [this, req, res] {
    sandbox::Record r = sandboxes_.get(req->pod_sandbox_id());
    to_status(r, res->mutable_status());
    res->set_timestamp(now_ns());
    if (req->verbose()) {
      nlohmann::json info = r.to_json();
      info["config"] = r.spec.config;
      info["spec"].erase("config");
      if (auto cached = cni_.cached(r.id); cached && cached->contains("result")) info["cniResult"] = (*cached)["result"];
      (*res->mutable_info())["info"] = info.dump();
    }
  });
}

grpc::ServerUnaryReactor* RuntimeService::ListPodSandbox(grpc::CallbackServerContext* ctx,
                                                         const v1::ListPodSandboxRequest* req,
                                                         v1::ListPodSandboxResponse* res) {
  return rpc_.fast(ctx, "ListPodSandbox", [this, req, res] {
    for (const auto& r : sandboxes_.list())
      if (!req->has_filter() || matches(r, req->filter())) to_list_item(r, res->add_items());
  });
}

}  // namespace crius::server
