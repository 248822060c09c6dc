// Running a helper program (a CNI plugin, an external OCI runtime): argv,
// exactly the given environment, input on stdin, stdout and stderr
// collected, and a deadline after which it (and anything it started in its
// process group) is killed. Safe to call from a multithreaded daemon.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace crius {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or the deadline
  int signal = 0;      // the signal that ended it, when one did
  int exec_errno = 0;  // why execve failed (then exit_code is 127)
  bool timed_out = false;
  std::string out, err;
};

// args[0] is the program's path unless `program` names it (OCI hooks give
// both). A program that cannot be started (not there, not executable, no
// process to spare) gives exit_code 127 and exec_errno, as a failed exec.
// netns_fd: a network namespace the child enters before it runs the
// program (-1: ours).
ProcessResult run_process(const std::vector<std::string>& args, const std::vector<std::string>& env,
                          const std::string& input, std::chrono::milliseconds timeout,
                          const std::string& program = "", int netns_fd = -1);

// Reaps our child pid, waiting up to `timeout`; true (and *status) once it
// is reaped, also when another waiter reaped it first (ECHILD).
bool reap_child(pid_t pid, std::chrono::milliseconds timeout, int* status = nullptr);
// SIGKILL to pid (and to its process group with `group`), then reap_child.
bool kill_and_reap(pid_t pid, bool group, std::chrono::milliseconds timeout, int* status = nullptr);

}  // namespace crius
