// A new process in a running container (runc's `exec`): it joins every
// namespace and the cgroup of the container's init and gets the security
// settings of its process object (capabilities, seccomp, AppArmor,
// no_new_privs, rlimits, user), without exec'ing any host binary inside the
// container's namespaces.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "oci/runtime/container.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

struct ExecOptions {
  std::string console_socket;  // unix socket that receives the pty master
  int console_fd = -1;         // or an already connected one (not owned)
  std::string pid_file;        // written with the process's pid
  int preserve_fds = 0;        // fds 3..3+N-1 passed to the process
  int stdio[3] = {-1, -1, -1};  // the process's stdin/stdout/stderr (not owned); -1 keeps the caller's
  bool ignore_paused = false;  // exec into a paused (frozen) container too (runc's --ignore-paused)
  // runc's `--cgroup`: "path" or "ctrl[,ctrl…]:path" (v1 only), a sub-cgroup
  // of the container's that must exist; a plain path applies to every
  // hierarchy a controller-specific entry does not name.
  std::vector<std::string> sub_cgroups;
};

// Starts `process` in `c` and returns its pid, a child of the caller (the
// process that joins the namespaces clones it with CLONE_PARENT) that the
// caller waits for. FailedPrecondition when the container is not running;
// the failing step's error otherwise (NotFound for a missing executable).
// Fields the process leaves out (capabilities, rlimits, apparmorProfile,
// oomScoreAdj) come from the container's process, as with runc; the
// container's seccomp filter always applies.
//
// Reap exec'd processes before (or while) destroying the container: when
// the container has its own pid namespace, its dying init waits until every
// other process of the namespace has been reaped by its parent, here the
// caller.
pid_t exec_process(const Container& c, const Process& process, const ExecOptions& opts);

}  // namespace crius::oci::runtime
