// PodSandboxStatus, ListPodSandbox and StreamPodSandboxes: read the
// in-memory records only, so they answer inline (kubelet polls them).
#include "base/clock.h"
#include "server/sandbox_convert.h"
#include "server/services.h"
#include "server/status_details.h"
#include "server/stream_batches.h"

namespace crius::server {
namespace {

template <class Add>
void each_listed(sandbox::Sandboxes& sandboxes, const v1::PodSandboxFilter* filter, Add add) {
  for (const auto& r : sandboxes.list())
    if (!filter || matches(r, *filter)) add(r);
}

}  // namespace

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
      add_pod_details(r, r.run_dir.empty() ? 0 : containers_.monitor_pid(r.run_dir + "/monitor"), info);
      (*res->mutable_info())["info"] = info.dump();
    }
  });
}

grpc::ServerUnaryReactor* RuntimeService::ListPodSandbox(grpc::CallbackServerContext* ctx,
                                                         const v1::ListPodSandboxRequest* req,
                                                         v1::ListPodSandboxResponse* res) {
  return rpc_.fast(ctx, "ListPodSandbox", [this, req, res] {
    each_listed(sandboxes_, req->has_filter() ? &req->filter() : nullptr,
                [&](const sandbox::Record& r) { to_list_item(r, res->add_items()); });
  });
}

grpc::ServerWriteReactor<v1::StreamPodSandboxesResponse>* RuntimeService::StreamPodSandboxes(
    grpc::CallbackServerContext*, const v1::StreamPodSandboxesRequest* req) {
  using Writer = BatchWriter<v1::StreamPodSandboxesResponse>;
  return Writer::fast(rpc_, "StreamPodSandboxes", [this, req](Batches<v1::StreamPodSandboxesResponse>& out) {
    each_listed(sandboxes_, req->has_filter() ? &req->filter() : nullptr, [&](const sandbox::Record& r) {
      out.add(&v1::StreamPodSandboxesResponse::add_pod_sandboxes, [&](auto* item) { to_list_item(r, item); });
    });
  });
}

}  // namespace crius::server
