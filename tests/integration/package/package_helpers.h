// What the package tests share: shell commands with their output, and the
// .deb built from this tree by cpack (rebuilt only when something that goes
// in it is newer).
#pragma once

#include <filesystem>
#include <string>

#include "api/cri.grpc.pb.h"

namespace crius::test::package {

struct Cmd {
  int code = -1;
  std::string out;  // stdout and stderr
};

// Runs a shell command line, output collected.
Cmd sh(const std::string& cmd);

std::string slurp(const std::filesystem::path& p);

// build/tests/integration/package/deb/crius_<version>_<arch>.deb; a test
// failure and "" when cpack makes none.
const std::string& deb();

// StopPodSandbox then RemovePodSandbox, as kubelet tears a pod down; the
// first failure.
grpc::Status stop_and_remove_pod(runtime::v1::RuntimeService::Stub& rt, const std::string& pod_id);

}  // namespace crius::test::package
