// Turning requested CDI devices into edits of a container's OCI spec (the
// config.json document), as the CDI spec describes them:
//   env          process.env; a CDI variable replaces one of the same name;
//   deviceNodes  linux.devices (type, major and minor read from the host
//                node, hostPath or else path, when not given; uid and gid the
//                process's when not given and not root), plus an allow rule
//                in linux.resources.devices with the node's permissions
//                (rwm when empty) for block and char devices;
//   mounts       mounts, replacing one at the same destination, then ordered
//                (stably) by the depth of the destination so that no mount is
//                hidden by a later one above it;
//   hooks        hooks.<hookName>;
//   intelRdt     linux.intelRdt;
//   additionalGids  process.user.additionalGids, once each, 0 ignored.
// A spec's own containerEdits come with the first of its devices asked for.
// Two devices (or specs) that set the same env name, device node path, mount
// destination or intelRdt to different values conflict.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/cdi/registry.h"

namespace crius::oci::cdi {

struct SourcedEdits {
  std::string source;  // "vendor.com/class=name", or the spec-wide edits "vendor.com/class (<file>)"
  const ContainerEdits* edits = nullptr;  // points into the catalog
};

// The edits the requests bring, in order, each device once. Throws
// crius::Error InvalidArgument for a malformed name (saying where it was
// asked for), NotFound naming every device the catalog lacks.
std::vector<SourcedEdits> resolve(const Catalog& catalog, const std::vector<Request>& requests);

// Applies `parts` to `oci`. Throws crius::Error InvalidArgument naming both
// sources of a conflict, FailedPrecondition for a host device node that
// cannot be read or is not one; `oci` is unchanged then.
void apply_edits(nlohmann::json& oci, const std::vector<SourcedEdits>& parts);

}  // namespace crius::oci::cdi
