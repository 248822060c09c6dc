// The pod's OCI runtime driven by the daemon itself, for a container whose
// monitor is gone (killed or crashed): nobody holds its stdio or reaps it
// any more, but the runtime still knows it and can signal and delete it.
// The builtin runtime is the library, in process; any other is its binary,
// run as a child the daemon waits for by pid, so that no other child of the
// daemon (a CNI plugin, a hook) is reaped by mistake.
#pragma once

#include <string>

#include "oci/monitor/client.h"

namespace crius::container {

enum class RuntimeStatus { unknown, created, running, paused, stopped };

// What the runtime says of `id`; unknown when it has no such container.
RuntimeStatus runtime_status(const oci::monitor::Handler&, const std::string& id);
// Signals it (all: every process of it); a container that is not running is
// not an error.
void runtime_kill(const oci::monitor::Handler&, const std::string& id, int signal, bool all);
// Forcibly deletes it (killed first), with its cgroup and state; idempotent.
void runtime_delete(const oci::monitor::Handler&, const std::string& id);

}  // namespace crius::container
