// Version, Status and RuntimeConfig: what kubelet asks at start and then
// polls. All read memory and the CNI config directory (verbose Status: the
// CDI spec dirs too, read again only after a change), so they answer inline.
#include "conf/load.h"
#include "base/version.h"
#include "container/handlers.h"
#include "oci/cdi/registry.h"
#include "oci/cgroups/hierarchy.h"
#include "server/services.h"
#include "server/status_details.h"

namespace crius::server {

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
    // A valid config whose plugins are installed; the config dir is watched,
    // so a config that appears makes the network ready without a restart.
    if (cni::Readiness r = cni_.readiness(config->network); r.ready) {
      network->set_status(true);
    } else {
      network->set_status(false);
      network->set_reason("NetworkPluginNotReady");
      network->set_message(r.message);
    }
    // Rootless without cgroup delegation: containers run, unlimited. Kubelet
    // reads only the two conditions above; this one is for the operator.
    if (!oci::cgroups::may_create_cgroups()) {
      auto* limits = res->mutable_status()->add_conditions();
      limits->set_type("ResourceLimitsEnforced");
      limits->set_status(false);
      limits->set_reason("NoCgroupDelegation");
      limits->set_message("crius runs in a user namespace that may not create cgroups: containers run without their "
                          "CPU, memory and pids limits");
    }
    for (const auto& f : container::handler_features(*config)) {
      auto* h = res->add_runtime_handlers();
      h->set_name(f.name);
      h->mutable_features()->set_recursive_read_only_mounts(f.recursive_read_only_mounts);
      h->mutable_features()->set_user_namespaces(f.user_namespaces);
    }
    res->mutable_features()->set_supplemental_groups_policy(true);
    res->mutable_features()->set_mount_options(true);  // Mount.mount_options' bind flags
    if (req->verbose()) {
      (*res->mutable_info())["config"] = conf::to_json(*config).dump();
      (*res->mutable_info())["cdi"] = oci::cdi::describe(*containers_.cdi().catalog(config->runtime.cdi_spec_dirs)).dump();
      // For `crius status info`: what the conditions and handler list do not say.
      (*res->mutable_info())["cgroup"] = cgroup_summary(*config).dump();
      nlohmann::json cni = cni_summary(config->network);
      cni["ready"] = network->status();
      cni["message"] = network->message();
      (*res->mutable_info())["cni"] = cni.dump();
    }
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
