// A TCP connection to a port of a pod, for port-forward: made inside the
// pod's network namespace (a socket keeps the namespace it was created in),
// or in the host's for a host-network pod.
#pragma once

#include <cstdint>
#include <string>

#include "base/fd.h"

namespace crius::sandbox {

// Connects to localhost:port (IPv4, then IPv6) in the network namespace
// pinned at `netns_path` ("" for the caller's). Unavailable naming the port
// and the errno text when nothing accepts.
Fd connect_port(const std::string& netns_path, uint16_t port);

}  // namespace crius::sandbox
