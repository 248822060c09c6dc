// A pod's monitor killed with SIGKILL (the OOM killer, an operator, a bug):
// the daemon notices at once, without being asked (a pidfd on every
// monitor), and tells the truth: a container that still runs is running,
// one that ended since is exited with its status lost, one that exited
// before keeps its status; Stop and Remove still work and leave nothing
// behind, and the pod takes new containers. The same with the daemon down
// while the monitor dies. For the builtin handler and runc.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
#include "tests/e2e/event_subscriber.h"
#include "tests/support/eventually.h"
//
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

bool process_exists(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

class MonitorDeath : public ::testing::TestWithParam<std::string> {
 protected:
  MonitorDeath() : env({"--cgroup-driver", "cgroupfs"}), marker("crius-test-" + env.net.bridge) {}

  v1::PodSandboxConfig pod_cfg() {
    auto pc = pod_config("monitor-death");
    pc.set_log_directory(env.daemon.dir() / "logs/monitor-death");
    pc.mutable_linux()->set_cgroup_parent("/" + marker + "/md");
    return pc;
  }
  std::string run(const v1::PodSandboxConfig& pc) {
    v1::RunPodSandboxRequest req;
    *req.mutable_config() = pc;
    req.set_runtime_handler(GetParam());
    v1::RunPodSandboxResponse res;
    auto s = env.daemon.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &res);
    if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + s.error_message());
    env.pods[res.pod_sandbox_id()] = pc;
    return res.pod_sandbox_id();
  }
  int pid_of(const std::string& id) { return container_info(env.daemon, id).value("pid", 0); }
  // The pod's monitor: of the processes named so (the builtin runtime's
  // inits are forks of it until they exec), the one whose parent is not.
  void kill_monitor(const std::string& pod) {
    const auto named = monitors_of(pod);
    std::vector<int> monitors;
    for (int pid : named)
      if (std::find(named.begin(), named.end(), std::stoi(proc_status_field(pid, "PPid"))) == named.end())
        monitors.push_back(pid);
    ASSERT_EQ(monitors.size(), 1u);
    ASSERT_EQ(::kill(monitors[0], SIGKILL), 0);
    ASSERT_TRUE(crius::testing::eventually([&] { return !process_exists(monitors[0]); }));
  }
  void remove_pod_fully(const std::string& pod) {
    ASSERT_TRUE(stop_pod(env.daemon, pod).ok());
    grpc::Status s = remove_pod(env.daemon, pod);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // One whole cycle first makes what stays (the runtime's state root…), so
  // that the comparison sees only what the test left.
  Residue warm_up() {
    const auto pc = pod_cfg();
    const std::string p = run(pc);
    env.create(p, container_config("warm", env.image, {"true"}));
    remove_pod_fully(p);
    std::error_code ec;
    fs::remove_all(env.daemon.dir() / "logs", ec);  // kubelet's to remove
    return residue();
  }
  Residue residue() {
    std::error_code ec;
    fs::remove_all(env.daemon.dir() / "logs", ec);
    return snapshot(env.daemon.dir().path(), marker, env.net.bridge, env.net.ipam.path());
  }

  ContainerEnv env;
  const std::string marker;
};

TEST_P(MonitorDeath, IsNoticedAtOnceAndStopAndRemoveStillWork) {
  const Residue before = warm_up();
  const std::string pod = run(pod_cfg());
  Subscriber events(env.daemon);
  // sleep as PID 1 ignores SIGTERM; the talker's echo fails once nobody
  // reads its output (init of its namespace, it does not die of SIGPIPE).
  const std::string quiet = env.create(pod, container_config("quiet", env.image, {"sleep", "3600"}));
  const std::string talker = env.create(
      pod, container_config("talker", env.image, {"sh", "-c", "while echo tick; do sleep 0.1; done; exit 7"}));
  const std::string done = env.create(pod, container_config("done", env.image, {"sh", "-c", "exit 3"}));
  ASSERT_TRUE(wait_state(env.daemon, done, v1::CONTAINER_EXITED));
  ASSERT_TRUE(wait_log(env.daemon, talker, "tick"));
  const int quiet_pid = pid_of(quiet);
  ASSERT_TRUE(process_exists(quiet_pid));

  kill_monitor(pod);
  // Reported without anybody asking for its status.
  EXPECT_TRUE(crius::testing::eventually([&] {
    const auto seen = events.of(talker);
    return std::count(seen.begin(), seen.end(), v1::CONTAINER_STOPPED_EVENT) == 1;
  }, std::chrono::seconds(20))) << "no STOPPED event for the talker";
  const auto t = container_status(env.daemon, talker).status();
  EXPECT_EQ(t.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(t.exit_code(), 255);
  EXPECT_EQ(t.reason(), "Error");
  EXPECT_NE(t.message().find("monitor"), std::string::npos) << t.message();
  EXPECT_GT(t.finished_at(), 0);
  const auto q = container_status(env.daemon, quiet).status();
  EXPECT_EQ(q.state(), v1::CONTAINER_RUNNING);
  EXPECT_TRUE(process_exists(quiet_pid));
  const auto d = container_status(env.daemon, done).status();
  EXPECT_EQ(d.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(d.exit_code(), 3);
  // What needs the monitor says so.
  const auto ex = exec_sync(env.daemon, quiet, {"true"});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::UNAVAILABLE) << ex.status.error_message();
  EXPECT_NE(ex.status.error_message().find("stopped and removed"), std::string::npos) << ex.status.error_message();

  // Stop: the stop signal, ignored, then SIGKILL, through the runtime.
  grpc::Status s = stop_container(env.daemon, quiet, 1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto stopped = container_status(env.daemon, quiet).status();
  EXPECT_EQ(stopped.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(stopped.exit_code(), 128 + SIGKILL);
  EXPECT_TRUE(crius::testing::eventually([&] { return !process_exists(quiet_pid); }));
  EXPECT_TRUE(crius::testing::eventually([&] {
    const auto seen = events.of(quiet);
    return !seen.empty() && seen.back() == v1::CONTAINER_STOPPED_EVENT;
  }));

  // The pod takes a new container (under a new monitor).
  const std::string again = env.create(pod, container_config("again", env.image, {"sleep", "3600"}));
  EXPECT_EQ(container_status(env.daemon, again).status().state(), v1::CONTAINER_RUNNING);
  auto e = exec_sync(env.daemon, again, {"echo", "hi"});
  EXPECT_TRUE(e.status.ok() && e.exit_code == 0 && e.out == "hi\n") << e.status.error_message() << e.out;
  EXPECT_EQ(container_status(env.daemon, quiet).status().state(), v1::CONTAINER_EXITED);

  for (const auto& id : {quiet, talker, done}) {
    s = remove_container(env.daemon, id);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  remove_pod_fully(pod);
  const Residue after = residue();
  EXPECT_TRUE(after == before) << describe_difference(before, after);
}

TEST_P(MonitorDeath, WhileTheDaemonIsDown) {
  const Residue before = warm_up();
  const std::string pod = run(pod_cfg());
  const std::string quiet = env.create(pod, container_config("quiet", env.image, {"sleep", "3600"}));
  const std::string created = env.create(pod, container_config("created", env.image, {"sleep", "3600"}), false);
  const int quiet_pid = pid_of(quiet);
  env.daemon.stop(SIGKILL);
  kill_monitor(pod);
  env.daemon.restart();

  // Still running: the restarted daemon asks the runtime, not the monitor.
  EXPECT_EQ(container_status(env.daemon, quiet).status().state(), v1::CONTAINER_RUNNING);
  EXPECT_TRUE(process_exists(quiet_pid));
  EXPECT_EQ(container_status(env.daemon, created).status().state(), v1::CONTAINER_CREATED);
  grpc::Status s = stop_container(env.daemon, quiet, 0);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(container_status(env.daemon, quiet).status().state(), v1::CONTAINER_EXITED);
  EXPECT_TRUE(crius::testing::eventually([&] { return !process_exists(quiet_pid); }));
  for (const auto& id : {quiet, created}) {
    s = remove_container(env.daemon, id);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  remove_pod_fully(pod);
  const Residue after = residue();
  EXPECT_TRUE(after == before) << describe_difference(before, after);
}

// A monitor alive but out of reach (its socket removed, or stuck): its
// containers are stopped and removed through the runtime, and removing the
// pod ends the monitor too, found by the lock it holds, instead of leaving it
// running for ever.
TEST_P(MonitorDeath, OneThatDoesNotAnswerGoesWithItsPod) {
  const Residue before = warm_up();
  const std::string pod = run(pod_cfg());
  const std::string deaf = env.create(pod, container_config("deaf", env.image, {"sleep", "3600"}));
  const int deaf_pid = pid_of(deaf);
  ASSERT_TRUE(process_exists(deaf_pid));
  ASSERT_EQ(monitors_of(pod).empty(), false);
  const fs::path sock = fs::path(env.daemon.dir().path()) / "state/sandboxes" / pod / "monitor/monitor.sock";
  ASSERT_TRUE(fs::remove(sock)) << sock;

  remove_pod_fully(pod);
  EXPECT_TRUE(crius::testing::eventually([&] { return !process_exists(deaf_pid); }));
  EXPECT_TRUE(crius::testing::eventually([&] { return monitors_of(pod).empty(); })) << "the monitor is left";
  const Residue after = residue();
  EXPECT_TRUE(after == before) << describe_difference(before, after);
}

INSTANTIATE_TEST_SUITE_P(MonitorDeath, MonitorDeath, ::testing::Values("crius", "runc"));

}  // namespace
}  // namespace crius::test
