// Idmapped bind mounts (the spec's mount uidMappings/gidMappings and the
// "idmap"/"ridmap" options, with runc 1.2's meaning): the runtime clones the
// source with open_tree(OPEN_TREE_CLONE), attaches a user namespace that
// holds the mapping with mount_setattr(MOUNT_ATTR_IDMAP), and the container's
// init moves the detached tree into place. It is done by the runtime, in the
// host's user namespace, because idmapping a mount needs CAP_SYS_ADMIN over
// the filesystem's own user namespace, which a container's init lacks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

struct IdmapRequest {
  bool recursive = false;  // "ridmap": every submount of an rbind too
  std::vector<IdMapping> uids, gids;
};

// What mounts[index] of the raw config asks for, nullopt when it is no
// idmapped mount. Mappings default to linux.uidMappings/gidMappings (the
// container's user namespace) when the mount has "idmap" but none of its
// own. Throws InvalidArgument naming the mount on a bad request.
std::optional<IdmapRequest> idmap_request(const Spec&, size_t index);

// A user namespace whose uid_map/gid_map are the given mappings (as
// "containerID hostID size" lines), held by an fd of its nsfs file.
Fd make_mapping_userns(const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids);

// The detached, idmapped clone of source (a host path). Throws naming it.
Fd make_idmapped_tree(const std::string& source, const IdmapRequest&);

}  // namespace crius::oci::runtime
