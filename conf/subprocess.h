// Running a helper program (a CNI plugin, an external OCI runtime): argv,
// exactly the given environment, input on stdin, stdout and stderr
// collected, and a deadline after which it (and anything it started in its
// process group) is killed. Safe to call from a multithreaded daemon.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace crius {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or the deadline
  bool timed_out = false;
  std::string out, err;
};

// args[0] is the program's path. Throws crius::Error (Internal) only when the
// process cannot be started.
ProcessResult run_process(const std::vector<std::string>& args, const std::vector<std::string>& env,
                          const std::string& input, std::chrono::milliseconds timeout);

}  // namespace crius
