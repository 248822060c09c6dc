// The daemon killed at every named step of the lifecycle RPCs
// (CRIUS_TEST_CRASH_AT, base/crash_point.h), then started again on the same
// root and state: the object is whole or absent (never half there), the RPC
// retried succeeds, and the normal Stop/Remove path then leaves the host as
// it was: mounts, pinned namespaces, veths, iptables rules, host-local
// allocations, cgroups, processes and files under root and state.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "tests/e2e/image_helpers.h"
#include "tests/e2e/sandbox_helpers.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;

class CrashPoint : public ::testing::TestWithParam<std::string> {
 protected:
  CrashPoint() : env({"--cgroup-driver", "cgroupfs"}), marker("crius-test-" + env.net.bridge) {}

  // A pod that owns everything a pod can: its own cgroup, a shared PID
  // namespace (crius-pause), a host port (portmap's iptables rules).
  v1::PodSandboxConfig pod(uint32_t attempt = 0) {
    auto pc = pod_config("crash");
    pc.mutable_metadata()->set_attempt(attempt);
    pc.set_log_directory(env.daemon.dir() / "logs/crash");
    pc.mutable_linux()->set_cgroup_parent("/" + marker + "/crash");
    pc.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
    auto* pm = pc.add_port_mappings();
    pm->set_protocol(v1::TCP);
    pm->set_container_port(80);
    pm->set_host_port(free_tcp_port());
    return pc;
  }
  v1::ContainerConfig container() { return container_config("c", env.image, {"sleep", "3600"}); }

  std::string run(const v1::PodSandboxConfig& pc) {
    std::string id;
    auto s = run_pod(env.daemon, pc, &id);
    if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + s.error_message());
    return id;
  }
  std::string create(const std::string& pod_id, const v1::PodSandboxConfig& pc) {
    std::string id;
    auto s = create_container(env.daemon, pod_id, container(), pc, &id);
    if (!s.ok()) throw std::runtime_error("CreateContainer: " + s.error_message());
    return id;
  }

  Residue residue() {
    std::error_code ec;
    fs::remove_all(env.daemon.dir() / "logs", ec);  // kubelet's to remove
    return snapshot(env.daemon.dir().path(), marker, env.net.bridge, env.net.ipam.path());
  }

  // Restarts the daemon set to die at `point`, makes the call that reaches
  // it, and starts the daemon again without the hook.
  void crash_in(const std::function<grpc::Status()>& call) {
    const std::string point = GetParam();
    env.daemon.options().env["CRIUS_TEST_CRASH_AT"] = point;
    env.daemon.restart();
    const grpc::Status s = call();
    EXPECT_FALSE(s.ok()) << "the call returned before the crash point";
    env.daemon.stop(SIGKILL);  // reaps it (it has _exit-ed already when the point was reached)
    EXPECT_NE(env.daemon.log().find("test crash point reached: " + point), std::string::npos) << env.daemon.log();
    env.daemon.options().env.erase("CRIUS_TEST_CRASH_AT");
    env.daemon.restart();
  }

  std::vector<v1::PodSandbox> pods() {
    v1::ListPodSandboxResponse res;
    auto s = env.daemon.runtime()->ListPodSandbox(deadline_ctx().get(), v1::ListPodSandboxRequest(), &res);
    if (!s.ok()) throw std::runtime_error("ListPodSandbox: " + s.error_message());
    return {res.items().begin(), res.items().end()};
  }
  std::vector<v1::Container> containers() {
    v1::ListContainersResponse res;
    auto s = env.daemon.runtime()->ListContainers(deadline_ctx().get(), v1::ListContainersRequest(), &res);
    if (!s.ok()) throw std::runtime_error("ListContainers: " + s.error_message());
    return {res.containers().begin(), res.containers().end()};
  }
  void remove_everything() {
    for (const auto& c : containers()) {
      EXPECT_TRUE(stop_container(env.daemon, c.id(), 0).ok());
      EXPECT_TRUE(remove_container(env.daemon, c.id()).ok());
    }
    for (const auto& p : pods()) {
      EXPECT_TRUE(stop_pod(env.daemon, p.id()).ok());
      EXPECT_TRUE(remove_pod(env.daemon, p.id()).ok());
    }
  }

  ContainerEnv env;
  const std::string marker;
};

TEST_P(CrashPoint, LeavesTheObjectWholeOrAbsentAndNothingBehind) {
  const std::string point = GetParam();
  const std::string rpc = point.substr(0, point.find('/'));

  // One whole cycle first makes what stays (runtime state roots, host-local's
  // lock file…), so that the comparison sees only what the crash left.
  {
    const auto pc = pod();
    const std::string p = run(pc);
    const std::string c = create(p, pc);
    ASSERT_TRUE(start_container(env.daemon, c).ok());
    remove_everything();
  }
  if (rpc == "PullImage" || rpc == "RemoveImage") {
    ASSERT_TRUE(image_e2e::remove(env.daemon, env.image).ok());
  }
  const Residue before = residue();

  if (rpc == "RunPodSandbox") {
    const auto pc = pod();
    crash_in([&] {
      std::string id;
      return run_pod(env.daemon, pc, &id);
    });
    const auto now = pods();
    if (point == "RunPodSandbox/after-record") {
      // Whole: its record was written with everything it names.
      ASSERT_EQ(now.size(), 1u);
      EXPECT_EQ(now[0].state(), v1::SANDBOX_READY);
      const std::string c = create(now[0].id(), pc);
      EXPECT_TRUE(start_container(env.daemon, c).ok()) << "the pod works after the restart";
    } else {
      EXPECT_TRUE(now.empty()) << "a pod without a record is not listed";
      // What it made is gone already, before any Remove.
      EXPECT_TRUE(residue() == before) << describe_difference(before, residue());
      // kubelet retries with the same config.
      run(pc);
    }
  } else if (rpc == "CreateContainer") {
    const auto pc = pod();
    const std::string p = run(pc);
    crash_in([&] {
      std::string id;
      return create_container(env.daemon, p, container(), pc, &id);
    });
    EXPECT_TRUE(containers().empty()) << "a container without a record is not listed";
    const std::string c = create(p, pc);
    EXPECT_TRUE(start_container(env.daemon, c).ok());
    EXPECT_TRUE(wait_state(env.daemon, c, v1::CONTAINER_RUNNING));
  } else if (rpc == "StartContainer") {
    const auto pc = pod();
    const std::string c = create(run(pc), pc);
    crash_in([&] { return start_container(env.daemon, c); });
    // The monitor started it: the restarted daemon learns so from it.
    EXPECT_TRUE(wait_state(env.daemon, c, v1::CONTAINER_RUNNING));
  } else if (rpc == "StopContainer") {
    const auto pc = pod();
    const std::string c = create(run(pc), pc);
    ASSERT_TRUE(start_container(env.daemon, c).ok());
    // sleep as PID 1 ignores SIGTERM: the stop is still waiting when it crashes.
    crash_in([&] { return stop_container(env.daemon, c, 30); });
    const auto state = container_status(env.daemon, c).status().state();
    EXPECT_TRUE(state == v1::CONTAINER_RUNNING || state == v1::CONTAINER_EXITED) << state;
    EXPECT_TRUE(stop_container(env.daemon, c, 1).ok());
    EXPECT_EQ(container_status(env.daemon, c).status().state(), v1::CONTAINER_EXITED);
  } else if (rpc == "RemoveContainer") {
    const auto pc = pod();
    const std::string c = create(run(pc), pc);
    ASSERT_TRUE(start_container(env.daemon, c).ok());
    ASSERT_TRUE(stop_container(env.daemon, c, 0).ok());
    crash_in([&] { return remove_container(env.daemon, c); });
    for (const auto& left : containers()) EXPECT_EQ(left.state(), v1::CONTAINER_EXITED);
    grpc::Status s = remove_container(env.daemon, c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(containers().empty());
  } else if (rpc == "StopPodSandbox") {
    const std::string p = run(pod());
    crash_in([&] { return stop_pod(env.daemon, p); });
    grpc::Status s = stop_pod(env.daemon, p);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(pod_status(env.daemon, p).status().state(), v1::SANDBOX_NOTREADY);
  } else if (rpc == "RemovePodSandbox") {
    const std::string p = run(pod());
    ASSERT_TRUE(stop_pod(env.daemon, p).ok());
    crash_in([&] { return remove_pod(env.daemon, p); });
    grpc::Status s = remove_pod(env.daemon, p);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(pods().empty());
  } else if (rpc == "PullImage") {
    crash_in([&] { return image_e2e::pull(env.daemon, env.image).status; });
    EXPECT_FALSE(image_e2e::status(env.daemon, env.image)) << "an image without a record is not there";
    EXPECT_TRUE(residue() == before) << "no partial layer or blob is left\n" << describe_difference(before, residue());
    const auto again = image_e2e::pull(env.daemon, env.image);
    EXPECT_TRUE(again.status.ok()) << again.status.error_message();
    ASSERT_TRUE(image_e2e::remove(env.daemon, env.image).ok());
  } else if (rpc == "RemoveImage") {
    ASSERT_TRUE(image_e2e::pull(env.daemon, env.image).status.ok());
    crash_in([&] { return image_e2e::remove(env.daemon, env.image); });
    EXPECT_FALSE(image_e2e::status(env.daemon, env.image));
    EXPECT_TRUE(image_e2e::remove(env.daemon, env.image).ok());
  } else {
    FAIL() << "no scenario for " << point;
  }

  remove_everything();
  const Residue after = residue();
  EXPECT_TRUE(before == after) << describe_difference(before, after);
}

INSTANTIATE_TEST_SUITE_P(
    CrashPoints, CrashPoint,
    ::testing::Values("RunPodSandbox/after-namespaces", "RunPodSandbox/after-cni-add", "RunPodSandbox/after-record",
                      "CreateContainer/after-rootfs", "CreateContainer/after-bundle", "CreateContainer/after-monitor",
                      "CreateContainer/after-create", "StartContainer/after-start", "StopContainer/after-signal",
                      "RemoveContainer/after-monitor-remove", "StopPodSandbox/after-cni-del",
                      "RemovePodSandbox/after-unpin", "PullImage/mid-layer", "PullImage/after-layer",
                      "RemoveImage/after-record"),
    [](const auto& info) {
      std::string name = info.param;
      for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

}  // namespace
}  // namespace crius::test
