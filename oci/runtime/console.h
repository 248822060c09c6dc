// process.terminal: the container's init opens a pty inside the container
// (its /dev/ptmx), makes the slave its controlling terminal and stdio, and
// sends the master to the --console-socket with SCM_RIGHTS, as runc does.
#pragma once

#include <optional>
#include <string>

#include "base/fd.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// Connects to the unix socket at path (runtime side, before the clone).
Fd connect_console_socket(const std::string& path);

// In the container's init. Returns 0 or an errno with `what` set.
int setup_console(int socket, const std::optional<ConsoleSize>& size, uid_t uid, std::string& what);

// Receives the pty master the init sent (and its payload, the pty's name,
// into name). Throws naming the step.
Fd receive_fd(int socket, std::string* name = nullptr);

}  // namespace crius::oci::runtime
