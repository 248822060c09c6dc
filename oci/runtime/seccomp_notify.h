// SCMP_ACT_NOTIFY: the seccomp listener fd of a container process goes to
// the agent at linux.seccomp.listenerPath with the spec's container process
// state (runtime.md / config-linux.md): one connection per process, a JSON
// object {ociVersion, fds: ["seccompFd"], pid, metadata, state} sent with
// the fd as SCM_RIGHTS, then the connection is closed.
#pragma once

#include <sys/types.h>

#include <string>

#include <nlohmann/json.hpp>

#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// The JSON object above; pid as the runtime sees it, state the spec's
// state object of the container.
nlohmann::ordered_json container_process_state(const Seccomp&, pid_t pid, const nlohmann::ordered_json& state);

// Connects to s.listener_path and sends the state with seccomp_fd. Throws
// naming the path and errno's text (sending failures fail the step, as the
// spec requires).
void send_to_seccomp_listener(const Seccomp& s, int seccomp_fd, pid_t pid, const nlohmann::ordered_json& state);

}  // namespace crius::oci::runtime
