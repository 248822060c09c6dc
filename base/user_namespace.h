// Whether this process runs in a user namespace other than the host's: crius
// started rootless, or root inside a container (kind rootless nodes). There,
// IDs outside the namespace's map cannot own files, device nodes cannot be
// made, trusted.* xattrs cannot be set and host cgroups are not ours to write.
#pragma once

#include <string>

namespace crius {

// True unless /proc/self/uid_map maps every ID to itself. Read once.
bool in_user_namespace();

// Whether the network namespace this thread runs in belongs to our user
// namespace (so that we may make bridges and veths in it).
bool owns_network_namespace();

// Parsed for tests: true unless `uid_map` (the file's text) is the identity
// map "0 0 4294967295".
bool is_restricted_uid_map(const std::string& uid_map);

}  // namespace crius
