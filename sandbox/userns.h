// A pod's own user namespace (userns_options mode POD): the checks its ID
// maps pass before anything is made, and the maps as /proc/<pid>/uid_map
// takes them. PinnedNamespaces (namespaces.h) creates and pins it.
#pragma once

#include <string>
#include <vector>

#include "sandbox/spec.h"

namespace crius::sandbox {

// The field prefix every refusal names.
inline constexpr const char* kUsernsField = "linux.security_context.namespace_options.userns_options";

// Throws InvalidArgument naming the field and what is wrong: a mode other
// than NODE or POD; for POD, maps that are not exactly one range each, a
// range of length 0, one that overflows 32 bits, overlaps another, does not
// map container ID 0 or includes host ID 0; and a pod that keeps the node's
// network, IPC or PID namespace (a user namespace owns the pod's others).
void validate_userns(const PodSpec& spec);

// "container_id host_id length\n" per range, as uid_map and gid_map take them.
std::string id_map_text(const std::vector<IdRange>& ranges);

}  // namespace crius::sandbox
