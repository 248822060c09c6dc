// What `crius-runtime spec` writes (the same default bundle config as
// `runc spec`: busybox-style sh, a read-only rootfs, the usual mounts, masked
// and read-only paths) and what `crius-runtime features` prints.
#pragma once

#include <nlohmann/json.hpp>

namespace crius::oci::runtime {

nlohmann::ordered_json default_spec();
nlohmann::ordered_json features();

}  // namespace crius::oci::runtime
