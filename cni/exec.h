// Running one CNI plugin binary: environment, config on stdin, result on
// stdout, and a deadline after which the plugin (and anything it started in
// its process group) is killed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace crius::cni {

struct ExecResult {
  int exit_code = -1;       // -1 when killed by a signal or the deadline
  bool timed_out = false;
  std::string out, err;
};

// Runs `path` with exactly `env` ("K=V") and `input` on stdin. Throws
// crius::Error (Internal) only when the process cannot be started.
ExecResult exec_plugin(const std::string& path, const std::vector<std::string>& env, const std::string& input,
                       std::chrono::milliseconds timeout);

}  // namespace crius::cni
