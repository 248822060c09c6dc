// ExecSync, ReopenContainerLog and UpdateContainerResources: requests to a
// running container through its pod's monitor.
#include "base/error.h"
#include "server/cri_validate.h"
#include "server/services.h"

namespace crius::server {

grpc::ServerUnaryReactor* RuntimeService::ExecSync(grpc::CallbackServerContext* ctx, const v1::ExecSyncRequest* req,
                                                   v1::ExecSyncResponse* res) {
  return rpc_.blocking(ctx, "ExecSync", [this, req, res] {
    if (req->timeout() < 0) throw InvalidArgument("timeout must not be negative");
    check_exec_cmd(req->cmd());
    std::vector<std::string> cmd(req->cmd().begin(), req->cmd().end());
    auto out = containers_.exec_sync(req->container_id(), cmd, std::chrono::seconds(req->timeout()));
    res->set_exit_code(out.exit_code);
    res->set_stdout(std::move(out.stdout_data));
    res->set_stderr(std::move(out.stderr_data));
  });
}

grpc::ServerUnaryReactor* RuntimeService::ReopenContainerLog(grpc::CallbackServerContext* ctx,
                                                             const v1::ReopenContainerLogRequest* req,
                                                             v1::ReopenContainerLogResponse*) {
  return rpc_.blocking(ctx, "ReopenContainerLog", [this, req] { containers_.reopen_log(req->container_id()); });
}

grpc::ServerUnaryReactor* RuntimeService::UpdateContainerResources(grpc::CallbackServerContext* ctx,
                                                                   const v1::UpdateContainerResourcesRequest* req,
                                                                   v1::UpdateContainerResourcesResponse*) {
  return rpc_.blocking(ctx, "UpdateContainerResources", [this, req] {
    if (!req->has_linux()) throw InvalidArgument("UpdateContainerResources: linux resources are missing");
    containers_.update_resources(req->container_id(), req->linux());
  });
}

}  // namespace crius::server
