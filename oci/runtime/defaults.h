// What `crius-runtime spec` writes (the same default bundle config as
// `runc spec`: busybox-style sh, a read-only rootfs, the usual mounts, masked
// and read-only paths) and what `crius-runtime features` prints.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace crius::oci::runtime {

nlohmann::ordered_json default_spec();
// `spec --rootless`, as runc makes it from the default: a user namespace
// mapping only the caller's uid/gid to 0 instead of a network namespace,
// /sys bound from the host (sysfs cannot be mounted without its own network
// namespace), no uid=/gid= mount options and no cgroup resources.
nlohmann::ordered_json rootless_spec(nlohmann::ordered_json spec, uint32_t uid, uint32_t gid);
nlohmann::ordered_json features();

}  // namespace crius::oci::runtime
