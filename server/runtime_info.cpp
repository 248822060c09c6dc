// Version, Status and RuntimeConfig: what kubelet asks at start and then
// polls. All read memory and a directory listing, so they answer inline.
#include <filesystem>

#include "conf/load.h"
#include "conf/version.h"
#include "server/services.h"

namespace crius::server {
namespace {

// kubelet waits for NetworkReady before running non-host-network pods; the
// network is ready once a CNI network config is in place.
std::optional<std::string> first_cni_config(const std::string& dir) {
  std::error_code ec;
  std::optional<std::string> first;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if ((ext == ".conf" || ext == ".conflist" || ext == ".json") && entry.is_regular_file(ec)) {
      std::string name = entry.path().string();
      if (!first || name < *first) first = name;
    }
  }
  return first;
}

}  // namespace

grpc::ServerUnaryReactor* RuntimeService::Version(grpc::CallbackServerContext* ctx, const v1::VersionRequest*,
                                                  v1::VersionResponse* res) {
  return rpc_.fast(ctx, "Version", [&] {
    res->set_version("0.1.0");  // the CRI API version of the response shape (kubelet ignores it)
    res->set_runtime_name("crius");
    res->set_runtime_version(kVersion);
    res->set_runtime_api_version("v1");
  });
}

grpc::ServerUnaryReactor* RuntimeService::Status(grpc::CallbackServerContext* ctx, const v1::StatusRequest* req,
                                                 v1::StatusResponse* res) {
  return rpc_.fast(ctx, "Status", [&] {
    auto config = config_.get();
    auto* runtime = res->mutable_status()->add_conditions();
    runtime->set_type("RuntimeReady");
    runtime->set_status(true);

    auto* network = res->mutable_status()->add_conditions();
    network->set_type("NetworkReady");
    if (first_cni_config(config->network.cni_config_dir)) {
      network->set_status(true);
    } else {
      network->set_status(false);
      network->set_reason("NetworkPluginNotReady");
      network->set_message("no CNI network config found in " + config->network.cni_config_dir);
    }
    if (req->verbose()) (*res->mutable_info())["config"] = conf::to_json(*config).dump();
  });
}

grpc::ServerUnaryReactor* RuntimeService::RuntimeConfig(grpc::CallbackServerContext* ctx,
                                                        const v1::RuntimeConfigRequest*,
                                                        v1::RuntimeConfigResponse* res) {
  return rpc_.fast(ctx, "RuntimeConfig", [&] {
    auto config = config_.get();
    res->mutable_linux()->set_cgroup_driver(config->cgroup_driver == "systemd" ? v1::CgroupDriver::SYSTEMD
                                                                               : v1::CgroupDriver::CGROUPFS);
  });
}

}  // namespace crius::server
