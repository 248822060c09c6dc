// Running one CNI plugin binary: environment, config on stdin, result on
// stdout, and a deadline after which the plugin (and anything it started in
// its process group) is killed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/process.h"

namespace crius::cni {

using ExecResult = ProcessResult;

// Runs `path` with exactly `env` ("K=V") and `input` on stdin. Throws
// crius::Error (Internal) only when the process cannot be started.
// netns_fd: the network namespace the plugin runs in (-1: ours).
inline ExecResult exec_plugin(const std::string& path, const std::vector<std::string>& env, const std::string& input,
                              std::chrono::milliseconds timeout, int netns_fd = -1) {
  return run_process({path}, env, input, timeout, "", netns_fd);
}

}  // namespace crius::cni
