// A new process in a running container (runc's `exec`): it joins every
// namespace and the cgroup of the container's init and gets the security
// settings of its process object (capabilities, seccomp, AppArmor,
// no_new_privs, rlimits, user), without exec'ing any host binary inside the
// container's namespaces.
#pragma once

#include <sys/types.h>

#include "oci/runtime/container.h"
#include "oci/spec.h"

namespace crius::oci::runtime {

struct ExecOptions {
  std::string console_socket;  // unix socket that receives the pty master
  int console_fd = -1;         // or an already connected one (not owned)
  std::string pid_file;        // written with the process's pid
  int preserve_fds = 0;        // fds 3..3+N-1 passed to the process
  int stdio[3] = {-1, -1, -1};  // the process's stdin/stdout/stderr (not owned); -1 keeps the caller's
};

// Starts `process` in `c` and returns its pid, a child of the caller (or of
// its subreaper) that the caller waits for. FailedPrecondition when the
// container is not running; the failing step's error otherwise.
pid_t exec_process(const Container& c, const Process& process, const ExecOptions& opts);

}  // namespace crius::oci::runtime
