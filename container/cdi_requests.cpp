#include "container/cdi_requests.h"

#include <map>

#include "base/strings.h"

namespace crius::container {

namespace {
constexpr std::string_view kAnnotationPrefix = "cdi.k8s.io/";
}  // namespace

std::vector<oci::cdi::Request> cdi_requests(const runtime::v1::ContainerConfig& config) {
  std::vector<oci::cdi::Request> out;
  for (int i = 0; i < config.cdi_devices_size(); ++i)
    out.push_back({config.cdi_devices(i).name(), "CDI_devices[" + std::to_string(i) + "]"});
  // A protobuf map has no order; by key, so errors name the same one each time.
  const std::map<std::string, std::string> annotations(config.annotations().begin(), config.annotations().end());
  for (const auto& [key, value] : annotations) {
    if (!key.starts_with(kAnnotationPrefix)) continue;
    for (const auto& name : split(value, ',')) out.push_back({name, "annotation " + key});
  }
  return out;
}

}  // namespace crius::container
