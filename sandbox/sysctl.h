// Pod sysctls: only those the kernel keeps per namespace may be set for a
// pod (net.* in the network namespace; kernel.shm*, kernel.msg*, kernel.sem
// and fs.mqueue.* in the IPC namespace), and never for a namespace the pod
// shares with the node.
#pragma once

#include <string>

namespace crius::sandbox {

enum class SysctlNamespace { net, ipc };

// Which namespace `name` lives in. Throws crius::Error (InvalidArgument)
// naming the sysctl when it is not namespaced, or when the pod shares that
// namespace with the node.
SysctlNamespace validate_sysctl(const std::string& name, bool host_network, bool host_ipc);

// "/proc/sys/net/ipv4/ip_forward" for "net.ipv4.ip_forward" (or the slash form).
std::string sysctl_path(const std::string& name);

// Writes `value` for the calling thread's namespaces. Throws InvalidArgument
// naming the sysctl and the errno text.
void write_sysctl(const std::string& name, const std::string& value);

}  // namespace crius::sandbox
