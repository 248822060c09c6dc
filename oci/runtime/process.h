// Pieces of process setup that are pure or nearly so: rlimit names, sysctl
// namespacing rules, the executable lookup in the container's PATH, HOME.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "oci/runtime/namespaces.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// "RLIMIT_NOFILE" → RLIMIT_NOFILE. Throws InvalidArgument.
int rlimit_resource(const std::string& name);

// Throws InvalidArgument unless the sysctl belongs to a namespace the
// container has its own of (net.* → network, kernel.shm* → ipc…).
void check_sysctl(const std::string& key, const NamespacePlan&);
// "net.ipv4.ip_forward" → "/proc/sys/net/ipv4/ip_forward".
std::string sysctl_path(const std::string& key);

// The value of NAME in a "NAME=value" list.
std::optional<std::string> env_get(const std::vector<std::string>& env, const std::string& name);
// args[0] as execve needs it: kept when it has a '/', else searched in the
// PATH of env (as runc does). Returns empty when not found.
std::string find_executable(const std::string& arg0, const std::vector<std::string>& env);
// The home directory of uid in the passwd file at path, or "/".
std::string home_of(uid_t uid, const std::string& passwd = "/etc/passwd");

}  // namespace crius::oci::runtime
