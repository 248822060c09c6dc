// The CDI devices a container config asks for, as kubelet (and containerd
// and cri-o after it) send them: ContainerConfig.CDI_devices, then the
// container's annotations "cdi.k8s.io/<anything>" whose value is a
// comma-separated list of fully qualified names (the older device-plugin
// path). Pod annotations are not read, as neither containerd nor cri-o does.
#pragma once

#include <vector>

#include "api/cri.pb.h"
#include "oci/cdi/registry.h"

namespace crius::container {

// In order: the field's devices, then the annotations' by key. Names are
// checked when injected (oci::cdi::Registry::inject).
std::vector<oci::cdi::Request> cdi_requests(const runtime::v1::ContainerConfig& config);

}  // namespace crius::container
