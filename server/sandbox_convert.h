// Between the CRI messages and the sandbox model: a PodSandboxConfig becomes
// a sandbox::PodSpec (keeping the whole config as protobuf JSON), and a
// sandbox record becomes a PodSandboxStatus or a PodSandbox list item.
#pragma once

#include "sandbox/record.h"
#include "api/cri.pb.h"

namespace crius::server {

sandbox::PodSpec to_pod_spec(const ::runtime::v1::PodSandboxConfig&, const std::string& runtime_handler);
void to_status(const sandbox::Record&, ::runtime::v1::PodSandboxStatus*);
void to_list_item(const sandbox::Record&, ::runtime::v1::PodSandbox*);
// The filter's id (exact or prefix), state and labels all match.
bool matches(const sandbox::Record&, const ::runtime::v1::PodSandboxFilter&);

}  // namespace crius::server
