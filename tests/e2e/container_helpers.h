// Helpers for the container e2e tests: a daemon with a private bridge
// network and the busybox test image pulled from a loopback registry, and
// thin wrappers over the container RPCs, as kubelet calls them.
#pragma once

// sandbox_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/sandbox_helpers.h"
//
#include <optional>
#include <string>
#include <vector>

namespace crius::test {

// "<registry>/test/busybox:latest": the busybox test image, pushed once per
// test binary to a loopback registry that lives as long as the binary.
const std::string& busybox_image();

// A daemon whose image store has the busybox test image (pushed once per
// test binary to a loopback registry), on a bridge network of its own.
struct ContainerEnv {
  explicit ContainerEnv(std::vector<std::string> args = {}, std::map<std::string, std::string> env = {},
                        bool hide_cgroup_v2_controllers = false);
  // Removes every pod the daemon still has (a test that failed halfway
  // leaves no container, monitor, mount or cgroup behind).
  ~ContainerEnv();
  // A pod on the test network whose logs go under <daemon dir>/logs/<name>.
  std::string run_pod(v1::PodSandboxConfig config);
  std::string run_pod(const std::string& name) { return run_pod(pod_config(name)); }
  // Creates (and, when `start`, starts) a container in pod `pod_id`.
  std::string create(const std::string& pod_id, const v1::ContainerConfig& config, bool start = true);

  TestNetwork net;
  Daemon daemon;
  std::string image;  // "<registry>/test/busybox:latest"
  std::map<std::string, v1::PodSandboxConfig> pods;  // by ID, as sent
};

// busybox running `cmd` (command only; the image has no entrypoint), with a
// log path "<name>/0.log".
v1::ContainerConfig container_config(const std::string& name, const std::string& image,
                                     const std::vector<std::string>& cmd);

grpc::Status create_container(Daemon& d, const std::string& pod_id, const v1::ContainerConfig& c,
                              const v1::PodSandboxConfig& pod, std::string* id);
grpc::Status start_container(Daemon& d, const std::string& id);
grpc::Status stop_container(Daemon& d, const std::string& id, int64_t timeout);
grpc::Status remove_container(Daemon& d, const std::string& id);
// How many containers ListContainers reports (999 when the call fails).
size_t container_count(Daemon& d);
v1::ContainerStatusResponse container_status(Daemon& d, const std::string& id, grpc::Status* st = nullptr);
// The verbose info of ContainerStatus as JSON (pid, runtimeSpec…).
nlohmann::json container_info(Daemon& d, const std::string& id);

struct ExecOutput {
  grpc::Status status;
  int exit_code = -1;
  std::string out, err;
};
ExecOutput exec_sync(Daemon& d, const std::string& id, const std::vector<std::string>& cmd, int64_t timeout = 10);

// Polls ContainerStatus (bounded) until the state is `state`.
bool wait_state(Daemon& d, const std::string& id, v1::ContainerState state, int timeout_ms = 10000);
// The container's log file as written so far.
std::string container_log(Daemon& d, const std::string& id);
// Polls (bounded) until the log contains `needle`.
bool wait_log(Daemon& d, const std::string& id, const std::string& needle, int timeout_ms = 10000);
// Mount points (of the test's own mount namespace) whose path contains `part`.
std::vector<std::string> mounts_under(const std::string& part);

// crius-monitor processes whose command line mentions `part` (a pod ID).
std::vector<int> monitors_of(const std::string& part);

// A field of /proc/<pid>/status ("CapEff", "NoNewPrivs", "Seccomp"…).
std::string proc_status_field(int pid, const std::string& field);

}  // namespace crius::test
