// UpdatePodSandboxResources: validate, work out the pod cgroup's share, and
// hand both to the sandbox (sandbox/pod_resources.cpp writes the cgroup and
// keeps them in the record, which verbose PodSandboxStatus shows).
#include "server/sandbox_resources.h"

#include <google/protobuf/util/json_util.h>

#include "base/error.h"
#include "oci/cri/spec_builder.h"
#include "server/services.h"

namespace crius::server {
namespace {

constexpr int64_t kDefaultCpuPeriod = 100000;  // µs, the kernel's and kubelet's default

// One of the two messages, checked as a container's resources are, with the
// refusal naming this message's field.
void check(const v1::LinuxContainerResources& r, const std::string& field) {
  if (r.cpu_quota() < -1)
    throw InvalidArgument(field + ".cpu_quota: " + std::to_string(r.cpu_quota()) +
                          " is not a quota (a positive number of µs per period, or -1 for no limit)");
  try {
    oci::cri::linux_resources(r);
  } catch (const Error& e) {
    std::string message = e.what();
    if (e.code() != ErrorCode::invalid_argument) throw;
    if (message.starts_with("resources.")) message = field + message.substr(std::string("resources").size());
    throw InvalidArgument(message);
  }
}

nlohmann::json proto_json(const google::protobuf::Message& m) {
  std::string text;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(m, &text, opts).ok()) return nlohmann::json::object();
  return nlohmann::json::parse(text, nullptr, false);
}

}  // namespace

void validate(const v1::UpdatePodSandboxResourcesRequest& req) {
  if (!req.has_overhead() && !req.has_resources())
    throw InvalidArgument("UpdatePodSandboxResources: neither overhead nor resources is set");
  check(req.overhead(), "overhead");
  check(req.resources(), "resources");
}

v1::LinuxContainerResources pod_cgroup_resources(const v1::UpdatePodSandboxResourcesRequest& req) {
  const v1::LinuxContainerResources& o = req.overhead();
  v1::LinuxContainerResources out = req.resources();
  out.set_oom_score_adj(0);
  if (out.memory_limit_in_bytes() > 0 && o.memory_limit_in_bytes() > 0) {
    out.set_memory_limit_in_bytes(out.memory_limit_in_bytes() + o.memory_limit_in_bytes());
    // memory+swap grows with the memory it includes.
    if (out.memory_swap_limit_in_bytes() > 0)
      out.set_memory_swap_limit_in_bytes(out.memory_swap_limit_in_bytes() + o.memory_limit_in_bytes());
  }
  if (out.cpu_quota() > 0 && o.cpu_quota() > 0) {
    const int64_t period = out.cpu_period() > 0 ? out.cpu_period() : kDefaultCpuPeriod;
    const int64_t overhead_period = o.cpu_period() > 0 ? o.cpu_period() : kDefaultCpuPeriod;
    out.set_cpu_quota(out.cpu_quota() + o.cpu_quota() * period / overhead_period);
  }
  if (o.cpu_shares() > 0) out.set_cpu_shares(out.cpu_shares() + o.cpu_shares());
  return out;
}

nlohmann::json requested_resources(const v1::UpdatePodSandboxResourcesRequest& req) {
  nlohmann::json out = nlohmann::json::object();
  if (req.has_overhead()) out["overhead"] = proto_json(req.overhead());
  if (req.has_resources()) out["resources"] = proto_json(req.resources());
  return out;
}

grpc::ServerUnaryReactor* RuntimeService::UpdatePodSandboxResources(grpc::CallbackServerContext* ctx,
                                                                    const v1::UpdatePodSandboxResourcesRequest* req,
                                                                    v1::UpdatePodSandboxResourcesResponse*) {
  return rpc_.blocking(ctx, "UpdatePodSandboxResources", [this, req] {
    validate(*req);
    sandboxes_.update_resources(req->pod_sandbox_id(), requested_resources(*req),
                                oci::cri::linux_resources(pod_cgroup_resources(*req)));
  });
}

}  // namespace crius::server
