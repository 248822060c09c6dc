// UpdateRuntimeConfig: kubelet hands over the node's pod CIDR (when the node
// gets one, and again on every node status sync). crius keeps it for the CNI
// plugins that ask for it (the ipRanges capability); cni/pod_cidr.h checks
// it and cni::Cni persists it.
#include "cni/pod_cidr.h"
#include "server/services.h"

namespace crius::server {

grpc::ServerUnaryReactor* RuntimeService::UpdateRuntimeConfig(grpc::CallbackServerContext* ctx,
                                                              const v1::UpdateRuntimeConfigRequest* req,
                                                              v1::UpdateRuntimeConfigResponse*) {
  // Blocking: a change is written to disk before it is answered.
  return rpc_.blocking(ctx, "UpdateRuntimeConfig", [this, req] {
    const std::string& value = req->runtime_config().network_config().pod_cidr();
    // Empty means nothing to change (kubelet sends it so before the node has a CIDR).
    const auto cidrs = cni::parse_pod_cidrs(value);
    if (!cidrs.empty()) cni_.set_pod_cidrs(cidrs);
  });
}

}  // namespace crius::server
