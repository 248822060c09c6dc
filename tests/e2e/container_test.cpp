// Containers over gRPC, as kubelet drives them: create, start, status,
// ExecSync, logs, stop, remove, inside pods on a bridge network; what the
// container sees checked from inside and from /proc on the host; errors;
// other runtime handlers; and nothing left behind.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
#include "tests/support/eventually.h"
//
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

bool process_alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

std::string ns_link(int pid, const char* kind) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + kind, ec).string();
}


int pid_of(Daemon& d, const std::string& id) { return container_info(d, id).value("pid", 0); }

TEST(Container, KubeletFlowFromPullToRemoval) {
  ContainerEnv env;
  const std::string pod = env.run_pod("web");
  // PID 1 of its namespace gets no default signal actions: it traps TERM.
  auto c = container_config("app", env.image,
                            {"sh", "-c", "echo hello-out; echo hello-err >&2; trap 'exit 143' TERM; "
                                         "while true; do sleep 0.1; done"});
  const std::string id = env.create(pod, c, false);
  auto st = container_status(env.daemon, id);
  EXPECT_EQ(st.status().state(), v1::CONTAINER_CREATED);
  EXPECT_EQ(st.status().metadata().name(), "app");
  EXPECT_GT(st.status().created_at(), 0);
  EXPECT_EQ(st.status().started_at(), 0);

  ASSERT_TRUE(start_container(env.daemon, id).ok());
  st = container_status(env.daemon, id);
  EXPECT_EQ(st.status().state(), v1::CONTAINER_RUNNING);
  EXPECT_GT(st.status().started_at(), st.status().created_at() - 1);
  EXPECT_EQ(st.status().image().image(), env.image);
  EXPECT_EQ(st.status().image_id().rfind("sha256:", 0), 0u);
  EXPECT_EQ(st.status().labels().at("container"), "app");
  EXPECT_EQ(st.status().log_path(), env.daemon.dir() / "logs/web/app/0.log");
  const int pid = pid_of(env.daemon, id);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(process_alive(pid));

  ASSERT_TRUE(wait_log(env.daemon, id, "hello-err"));
  const std::string log = container_log(env.daemon, id);
  const std::regex out_line(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F hello-out\n)");
  const std::regex err_line(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stderr F hello-err\n)");
  EXPECT_TRUE(std::regex_search(log, out_line)) << log;
  EXPECT_TRUE(std::regex_search(log, err_line)) << log;

  auto ex = exec_sync(env.daemon, id, {"sh", "-c", "echo out-$((1+2)); echo err >&2; exit 7"});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_message();
  EXPECT_EQ(ex.exit_code, 7);
  EXPECT_EQ(ex.out, "out-3\n");
  EXPECT_EQ(ex.err, "err\n");

  // The pod's hostname, and the container's pid namespace is its own.
  ex = exec_sync(env.daemon, id, {"hostname"});
  EXPECT_EQ(ex.out, "web\n");
  ex = exec_sync(env.daemon, id, {"sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"});
  EXPECT_NE(ex.out.find("hello-out"), std::string::npos) << "exec runs in the container's pid namespace: " << ex.out;

  {
    v1::ListContainersRequest req;
    req.mutable_filter()->set_pod_sandbox_id(pod);
    v1::ListContainersResponse res;
    ASSERT_TRUE(env.daemon.runtime()->ListContainers(deadline_ctx().get(), req, &res).ok());
    ASSERT_EQ(res.containers_size(), 1);
    EXPECT_EQ(res.containers(0).id(), id);
    EXPECT_EQ(res.containers(0).state(), v1::CONTAINER_RUNNING);
  }

  ASSERT_TRUE(stop_container(env.daemon, id, 10).ok());
  st = container_status(env.daemon, id);
  EXPECT_EQ(st.status().state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(st.status().exit_code(), 128 + SIGTERM);
  EXPECT_EQ(st.status().reason(), "Error");
  EXPECT_GT(st.status().finished_at(), st.status().started_at());
  EXPECT_FALSE(process_alive(pid));
  EXPECT_TRUE(stop_container(env.daemon, id, 10).ok()) << "stop is idempotent";

  ASSERT_TRUE(remove_container(env.daemon, id).ok());
  grpc::Status s;
  container_status(env.daemon, id, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(remove_container(env.daemon, id).ok()) << "remove is idempotent";
  EXPECT_TRUE(mounts_under(id).empty());
  EXPECT_FALSE(fs::exists(env.daemon.dir() / ("state/containers/" + id)));

  ASSERT_TRUE(stop_pod(env.daemon, pod).ok());
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  // It exits after answering the shutdown (later under LeakSanitizer, which looks at its heap first).
  EXPECT_TRUE(crius::testing::eventually([&] { return monitors_of(pod).empty(); }))
      << "the pod's monitor exits with the pod";
}

// kubelet polls status while a stop waits out its grace period: the poll
// must not queue behind the stop.
TEST(Container, StatusAnswersWhileAStopWaitsForTheGracePeriod) {
  ContainerEnv env;
  const std::string pod = env.run_pod("grace");
  // PID 1 of its namespace without a TERM handler: TERM does nothing, so
  // the stop waits for its whole timeout before SIGKILL.
  const std::string id = env.create(pod, container_config("c", env.image, {"sleep", "3600"}));
  auto stop = std::async(std::launch::async, [&] { return stop_container(env.daemon, id, 5); });
  for (int i = 0; i < 20; ++i) {
    grpc::Status s;
    auto st = container_status(env.daemon, id, &s);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(st.status().state(), v1::CONTAINER_RUNNING);
    v1::ListContainersResponse res;
    ASSERT_TRUE(env.daemon.runtime()->ListContainers(deadline_ctx().get(), v1::ListContainersRequest(), &res).ok());
  }
  EXPECT_EQ(stop.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the stop ended before its grace period";
  ASSERT_TRUE(stop.get().ok());
  EXPECT_EQ(container_status(env.daemon, id).status().exit_code(), 128 + SIGKILL);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Container, ExitCodeAndCompletedReason) {
  ContainerEnv env;
  const std::string pod = env.run_pod("jobs");
  const std::string ok = env.create(pod, container_config("ok", env.image, {"true"}));
  const std::string bad = env.create(pod, container_config("bad", env.image, {"sh", "-c", "exit 3"}));
  ASSERT_TRUE(wait_state(env.daemon, ok, v1::CONTAINER_EXITED));
  ASSERT_TRUE(wait_state(env.daemon, bad, v1::CONTAINER_EXITED));
  auto a = container_status(env.daemon, ok).status();
  auto b = container_status(env.daemon, bad).status();
  EXPECT_EQ(a.exit_code(), 0);
  EXPECT_EQ(a.reason(), "Completed");
  EXPECT_EQ(b.exit_code(), 3);
  EXPECT_EQ(b.reason(), "Error");
  // StopPodSandbox and RemovePodSandbox take the containers with them.
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  grpc::Status s;
  container_status(env.daemon, ok, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(Container, TwoContainersShareLocalhostIpcAndHostname) {
  ContainerEnv env;
  const std::string pod = env.run_pod("pair");
  const std::string a = env.create(pod, container_config("a", env.image, {"sleep", "3600"}));
  const std::string b = env.create(pod, container_config("b", env.image, {"sleep", "3600"}));
  const int pa = pid_of(env.daemon, a), pb = pid_of(env.daemon, b);
  ASSERT_GT(pa, 0);
  ASSERT_GT(pb, 0);
  for (const char* kind : {"net", "ipc", "uts"}) EXPECT_EQ(ns_link(pa, kind), ns_link(pb, kind)) << kind;
  EXPECT_NE(ns_link(pa, "pid"), ns_link(pb, "pid"));
  EXPECT_NE(ns_link(pa, "mnt"), ns_link(pb, "mnt"));
  EXPECT_NE(ns_link(pa, "net"), ns_link(::getpid(), "net"));
  // localhost between them: a listener in a, a client in b.
  auto srv = exec_sync(env.daemon, a, {"sh", "-c", "(echo pong | nc -l -p 7777 &) ; sleep 0.2; echo started"});
  ASSERT_TRUE(srv.status.ok()) << srv.status.error_message();
  std::string got;
  crius::testing::eventually([&] {
    got = exec_sync(env.daemon, b, {"sh", "-c", "nc 127.0.0.1 7777 </dev/null"}).out;
    return got.find("pong") != std::string::npos;
  });
  EXPECT_NE(got.find("pong"), std::string::npos);
  // One /dev/shm between them.
  ASSERT_EQ(exec_sync(env.daemon, a, {"sh", "-c", "echo shared > /dev/shm/x"}).exit_code, 0);
  EXPECT_EQ(exec_sync(env.daemon, b, {"cat", "/dev/shm/x"}).out, "shared\n");
  EXPECT_EQ(exec_sync(env.daemon, b, {"hostname"}).out, "pair\n");
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  EXPECT_FALSE(process_alive(pa));
  EXPECT_FALSE(process_alive(pb));
}

TEST(Container, ErrorsNameWhatIsWrong) {
  ContainerEnv env;
  const std::string pod = env.run_pod("errs");
  std::string id;
  auto s = create_container(env.daemon, "no-such-pod", container_config("x", env.image, {"true"}), env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("no-such-pod"), std::string::npos) << s.error_message();

  s = create_container(env.daemon, pod, container_config("x", "127.0.0.1:1/absent:1", {"true"}), env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("127.0.0.1:1/absent:1"), std::string::npos) << s.error_message();

  auto unnamed = container_config("", env.image, {"true"});
  s = create_container(env.daemon, pod, unnamed, env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  const std::string first = env.create(pod, container_config("dup", env.image, {"sleep", "3600"}));
  s = create_container(env.daemon, pod, container_config("dup", env.image, {"true"}), env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find(first), std::string::npos) << s.error_message();

  s = start_container(env.daemon, first);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "started twice";
  s = start_container(env.daemon, "0123456789abcdef");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  auto user = container_config("nouser", env.image, {"true"});
  user.mutable_linux()->mutable_security_context()->set_run_as_username("nosuchuser");
  s = create_container(env.daemon, pod, user, env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("nosuchuser"), std::string::npos) << s.error_message();

  ASSERT_TRUE(stop_container(env.daemon, first, 0).ok());
  auto ex = exec_sync(env.daemon, first, {"true"});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ex = exec_sync(env.daemon, first, {});
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A failed create leaves no mount, bundle or record behind.
  size_t bundles = 0;
  for (const auto& e : fs::directory_iterator(env.daemon.dir() / "state/containers")) bundles += e.is_directory();
  EXPECT_EQ(bundles, 1u);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  EXPECT_TRUE(mounts_under(env.daemon.dir().path() + "/root/images/containers").empty());
}

TEST(Container, ExecSyncTimeoutKillsTheProcess) {
  ContainerEnv env;
  const std::string pod = env.run_pod("slow");
  const std::string id = env.create(pod, container_config("c", env.image, {"sleep", "3600"}));
  auto ex = exec_sync(env.daemon, id, {"sh", "-c", "touch /tmp/started; sleep 30; touch /tmp/finished"}, 1);
  EXPECT_EQ(ex.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << ex.status.error_message();
  EXPECT_EQ(exec_sync(env.daemon, id, {"ls", "/tmp/started"}).exit_code, 0);
  // No sleep 30 is left in the container.
  auto ps = exec_sync(env.daemon, id, {"sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"});
  EXPECT_EQ(ps.out.find("sleep 30"), std::string::npos) << ps.out;
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Container, LongLinesAreSplitAndHundredMegabytesLoseNoLine) {
  ContainerEnv env;
  const std::string pod = env.run_pod("logs");
  // 40000 'x' then a newline: longer than one log record.
  const std::string id = env.create(
      pod, container_config("long", env.image, {"sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo; echo end"}));
  ASSERT_TRUE(wait_state(env.daemon, id, v1::CONTAINER_EXITED));
  ASSERT_TRUE(wait_log(env.daemon, id, "stdout F end"));
  std::istringstream lines(container_log(env.daemon, id));
  std::string line, joined;
  int partial = 0;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string ts, stream, tag;
    f >> ts >> stream >> tag;
    const std::string content = line.size() > ts.size() + stream.size() + tag.size() + 3
                                    ? line.substr(ts.size() + stream.size() + tag.size() + 3)
                                    : "";
    if (content == "end") break;
    joined += content;
    if (tag == "P") ++partial;
    else EXPECT_EQ(tag, "F");
  }
  EXPECT_GE(partial, 1);
  EXPECT_EQ(joined, std::string(40000, 'x'));

  // About 100 MB: 10 million numbered lines.
  const std::string big = env.create(pod, container_config("big", env.image, {"seq", "1", "14000000"}));
  ASSERT_TRUE(wait_state(env.daemon, big, v1::CONTAINER_EXITED, 120000));
  const std::string path = container_status(env.daemon, big).status().log_path();
  std::ifstream in(path);
  uint64_t expect = 1, bad = 0;
  while (std::getline(in, line)) {
    const auto sp = line.rfind(' ');
    if (line.compare(sp - 1, 1, "F") != 0 || std::stoull(line.substr(sp + 1)) != expect) ++bad;
    ++expect;
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(expect - 1, 14000000u);
  EXPECT_GT(fs::file_size(path), 100u * 1000 * 1000);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Container, ReopenContainerLogAfterRotation) {
  ContainerEnv env;
  const std::string pod = env.run_pod("rot");
  const std::string id =
      env.create(pod, container_config("c", env.image, {"sh", "-c", "i=0; while true; do echo n$i; i=$((i+1)); sleep 0.05; done"}));
  ASSERT_TRUE(wait_log(env.daemon, id, "n3"));
  const std::string path = container_status(env.daemon, id).status().log_path();
  fs::rename(path, path + ".1");
  v1::ReopenContainerLogRequest req;
  req.set_container_id(id);
  v1::ReopenContainerLogResponse res;
  ASSERT_TRUE(env.daemon.runtime()->ReopenContainerLog(deadline_ctx().get(), req, &res).ok());
  ASSERT_TRUE(wait_log(env.daemon, id, "stdout F n"));
  EXPECT_TRUE(fs::exists(path));
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Container, RestartRecovery) {
  ContainerEnv env;
  const std::string pod = env.run_pod("survive");
  const std::string ticker = env.create(
      pod, container_config("ticker", env.image, {"sh", "-c", "i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.05; done"}));
  const std::string quitter = env.create(pod, container_config("quitter", env.image, {"sh", "-c", "sleep 1; exit 3"}));
  ASSERT_TRUE(wait_log(env.daemon, ticker, "tick2"));
  const int pid = pid_of(env.daemon, ticker);
  const int quitter_pid = pid_of(env.daemon, quitter);
  const std::string log_path = container_status(env.daemon, ticker).status().log_path();

  env.daemon.stop(SIGKILL);
  // While the daemon is down: the ticker runs and logs, the quitter exits.
  const auto size_then = fs::file_size(log_path);
  EXPECT_TRUE(crius::testing::eventually([&] { return fs::file_size(log_path) > size_then; }))
      << "the ticker's log did not grow while the daemon was down";
  EXPECT_TRUE(crius::testing::eventually([&] { return !process_alive(quitter_pid); }))
      << "the quitter did not exit while the daemon was down";
  EXPECT_TRUE(process_alive(pid));

  env.daemon.restart();
  auto t = container_status(env.daemon, ticker).status();
  EXPECT_EQ(t.state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(pid_of(env.daemon, ticker), pid);
  auto q = container_status(env.daemon, quitter).status();
  EXPECT_EQ(q.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(q.exit_code(), 3);
  EXPECT_GT(q.finished_at(), q.started_at());
  EXPECT_EQ(pod_status(env.daemon, pod).status().state(), v1::SANDBOX_READY);
  // The monitor is reached again: exec and stop work.
  EXPECT_EQ(exec_sync(env.daemon, ticker, {"echo", "back"}).out, "back\n");
  ASSERT_TRUE(stop_container(env.daemon, ticker, 2).ok());
  EXPECT_FALSE(process_alive(pid));
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

// The daemon restarted into a mount namespace of its own, whose mounts do not
// reach the pod's monitor (started before, still in the host's): a new
// container of that pod is refused with a reason, not sent to a monitor
// that cannot see its root filesystem; back in the host's namespace, the
// pod works again.
TEST(Container, ANewContainerIsRefusedWhenTheMonitorCannotSeeTheDaemonsMounts) {
  ContainerEnv env;
  const std::string pod = env.run_pod("elsewhere");
  const std::string first = env.create(pod, container_config("first", env.image, {"sleep", "3600"}));
  ASSERT_TRUE(stop_container(env.daemon, first, 0).ok());
  ASSERT_TRUE(remove_container(env.daemon, first).ok());  // its monitor stays with the pod

  // A private mount namespace, slave to the host's: the host's mounts reach
  // the daemon, the daemon's do not reach the host (nor the monitor).
  env.daemon.stop(SIGTERM);
  env.daemon.options().hide_cgroup_v2_controllers = true;
  env.daemon.restart();
  std::string id;
  auto s = create_container(env.daemon, pod, container_config("second", env.image, {"sleep", "3600"}), env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("mount namespace"), std::string::npos) << s.error_message();
  EXPECT_EQ(container_count(env.daemon), 0u);

  env.daemon.stop(SIGTERM);
  env.daemon.options().hide_cgroup_v2_controllers = false;
  env.daemon.restart();
  const std::string third = env.create(pod, container_config("third", env.image, {"sleep", "3600"}));
  EXPECT_EQ(container_status(env.daemon, third).status().state(), v1::CONTAINER_RUNNING);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Container, NoResidueAfterTwentyPodsWithTwoContainers) {
  ContainerEnv env({"--cgroup-driver", "cgroupfs"});
  const std::string marker = "crius-test-" + env.net.bridge;
  auto cycle = [&](int i) {
    auto pc = pod_config("p" + std::to_string(i));
    pc.mutable_linux()->set_cgroup_parent("/" + marker + "/pod" + std::to_string(i));
    const std::string pod = env.run_pod(pc);
    const std::string a = env.create(pod, container_config("a", env.image, {"sleep", "3600"}));
    const std::string b = env.create(pod, container_config("b", env.image, {"sh", "-c", "echo done"}));
    ASSERT_TRUE(wait_state(env.daemon, b, v1::CONTAINER_EXITED));
    if (i % 2 == 0) {
      // As kubelet does it: containers first, then the pod.
      ASSERT_TRUE(stop_container(env.daemon, a, 1).ok());
      ASSERT_TRUE(remove_container(env.daemon, a).ok());
      ASSERT_TRUE(remove_container(env.daemon, b).ok());
      ASSERT_TRUE(stop_pod(env.daemon, pod).ok());
    }
    ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
    EXPECT_TRUE(crius::testing::eventually([&] { return monitors_of(pod).empty(); }));
  };
  // A first pod makes the directories that stay (runtime state roots…).
  cycle(100);
  std::error_code ec;
  fs::remove_all(env.daemon.dir() / "logs", ec);
  const auto before = snapshot(env.daemon.dir().path(), marker, env.net.bridge);
  for (int i = 0; i < 20; ++i) cycle(i);
  // Logs are kubelet's to remove; everything else must be gone.
  fs::remove_all(env.daemon.dir() / "logs", ec);
  const auto after = snapshot(env.daemon.dir().path(), marker, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);
  v1::ListContainersResponse res;
  ASSERT_TRUE(env.daemon.runtime()->ListContainers(deadline_ctx().get(), v1::ListContainersRequest(), &res).ok());
  EXPECT_EQ(res.containers_size(), 0);
}

TEST(Container, SecurityContextIsApplied) {
  ContainerEnv env;
  auto pod_cfg = pod_config("sec");
  // A privileged container needs a privileged pod.
  pod_cfg.mutable_linux()->mutable_security_context()->set_privileged(true);
  const std::string pod = env.run_pod(pod_cfg);

  auto locked = container_config("locked", env.image, {"sleep", "3600"});
  auto* sc = locked.mutable_linux()->mutable_security_context();
  sc->mutable_run_as_user()->set_value(1000);
  sc->mutable_run_as_group()->set_value(1000);
  sc->add_supplemental_groups(3000);
  sc->set_readonly_rootfs(true);
  sc->set_no_new_privs(true);
  sc->mutable_capabilities()->add_drop_capabilities("ALL");
  sc->mutable_capabilities()->add_add_capabilities("NET_BIND_SERVICE");
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  const std::string a = env.create(pod, locked);
  const int pa = pid_of(env.daemon, a);
  ASSERT_GT(pa, 0);
  EXPECT_EQ(exec_sync(env.daemon, a, {"id", "-u"}).out, "1000\n");
  const std::string groups = exec_sync(env.daemon, a, {"id", "-G"}).out;
  for (const char* g : {"1000", "2000", "3000"}) EXPECT_NE(groups.find(g), std::string::npos) << groups;
  EXPECT_NE(exec_sync(env.daemon, a, {"touch", "/newfile"}).exit_code, 0) << "the root filesystem is read-only";
  EXPECT_EQ(proc_status_field(pa, "NoNewPrivs"), "1");
  EXPECT_EQ(proc_status_field(pa, "Seccomp"), "2");
  EXPECT_EQ(proc_status_field(pa, "CapBnd"), "0000000000000400");
  auto mounted_at = [](int pid, const std::string& point) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/mountinfo");
    std::string line;
    while (std::getline(in, line))
      if (line.find(" " + point + " ") != std::string::npos) return true;
    return false;
  };
  // One of kubelet's default masked paths that this kernel has.
  std::string masked;
  for (const char* p : {"/proc/keys", "/proc/timer_list", "/proc/kcore", "/proc/sched_debug", "/sys/firmware"})
    if (masked.empty() && fs::exists(p)) masked = p;
  ASSERT_FALSE(masked.empty());
  EXPECT_TRUE(mounted_at(pa, masked)) << masked << " is masked by default";
  EXPECT_TRUE(mounted_at(pa, "/proc/sys")) << "read-only by default";
  EXPECT_NE(exec_sync(env.daemon, a, {"sh", "-c", "echo 1 > /proc/sys/kernel/domainname"}).exit_code, 0);
  auto st = container_status(env.daemon, a).status();
  EXPECT_EQ(st.user().linux().uid(), 1000);
  EXPECT_EQ(st.user().linux().gid(), 1000);

  auto named = container_config("named", env.image, {"sleep", "3600"});
  named.mutable_linux()->mutable_security_context()->set_run_as_username("app");
  const std::string b = env.create(pod, named);
  EXPECT_EQ(exec_sync(env.daemon, b, {"id", "-un"}).out, "app\n");
  // The default capability set (cri-o's).
  EXPECT_EQ(proc_status_field(pid_of(env.daemon, b), "CapBnd"), "00000000000005fb");
  EXPECT_EQ(proc_status_field(pid_of(env.daemon, b), "NoNewPrivs"), "0");

  auto priv = container_config("priv", env.image, {"sleep", "3600"});
  priv.mutable_linux()->mutable_security_context()->set_privileged(true);
  const std::string c = env.create(pod, priv);
  const int pc = pid_of(env.daemon, c);
  EXPECT_EQ(proc_status_field(pc, "CapBnd"), proc_status_field(::getpid(), "CapBnd"));
  EXPECT_EQ(proc_status_field(pc, "Seccomp"), "0");
  EXPECT_FALSE(mounted_at(pc, masked)) << "nothing masked";
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

class Resources : public ::testing::TestWithParam<std::string> {};

// The cgroup directory of `pid` in the v1 hierarchy of `controller`.
std::string cgroup_dir(int pid, const std::string& controller) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    std::stringstream ctrls(line.substr(a + 1, b - a - 1));
    std::string c;
    while (std::getline(ctrls, c, ','))
      if (c == controller) return "/sys/fs/cgroup/" + line.substr(a + 1, b - a - 1) + line.substr(b + 1);
  }
  return "";
}

std::string trimmed(const std::string& path) {
  std::ifstream in(path);
  std::string v;
  std::getline(in, v);
  return v;
}

TEST_P(Resources, LimitsReachTheCgroupAndUpdateChangesThem) {
  ContainerEnv env({"--cgroup-driver", "cgroupfs"});
  auto pc = pod_config("res");
  const std::string marker = "crius-test-" + env.net.bridge;
  pc.mutable_linux()->set_cgroup_parent("/" + marker + "/res");
  v1::RunPodSandboxRequest req;
  pc.set_log_directory(env.daemon.dir() / "logs/res");
  *req.mutable_config() = pc;
  req.set_runtime_handler(GetParam());
  v1::RunPodSandboxResponse rres;
  auto s = env.daemon.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &rres);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string pod = rres.pod_sandbox_id();
  env.pods[pod] = pc;

  auto cc = container_config("c", env.image, {"sleep", "3600"});
  auto* r = cc.mutable_linux()->mutable_resources();
  r->set_memory_limit_in_bytes(64 << 20);
  r->set_cpu_period(100000);
  r->set_cpu_quota(50000);
  r->set_cpu_shares(512);
  r->set_oom_score_adj(500);
  const std::string id = env.create(pod, cc);
  const int pid = pid_of(env.daemon, id);
  ASSERT_GT(pid, 0);
  const std::string mem = cgroup_dir(pid, "memory"), cpu = cgroup_dir(pid, "cpu");
  EXPECT_NE(mem.find(marker + "/res/"), std::string::npos) << mem;
  EXPECT_EQ(trimmed(mem + "/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(trimmed(cpu + "/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(trimmed(cpu + "/cpu.shares"), "512");
  EXPECT_EQ(trimmed("/proc/" + std::to_string(pid) + "/oom_score_adj"), "500");

  v1::UpdateContainerResourcesRequest up;
  up.set_container_id(id);
  *up.mutable_linux() = *r;
  up.mutable_linux()->set_memory_limit_in_bytes(96 << 20);
  v1::UpdateContainerResourcesResponse ures;
  s = env.daemon.runtime()->UpdateContainerResources(deadline_ctx().get(), up, &ures);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(trimmed(mem + "/memory.limit_in_bytes"), std::to_string(96 << 20));
  EXPECT_EQ(container_status(env.daemon, id).status().resources().linux().memory_limit_in_bytes(), 96 << 20);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  EXPECT_FALSE(fs::exists(mem)) << "the container's cgroup is removed with it";
}

INSTANTIATE_TEST_SUITE_P(Container, Resources, ::testing::Values("crius", "runc"));

TEST(Container, OomScoreAdjBelowTheDaemonsIsClamped) {
  ContainerEnv env;
  const std::string pod = env.run_pod("oom");
  auto cc = container_config("c", env.image, {"sleep", "3600"});
  cc.mutable_linux()->mutable_resources()->set_oom_score_adj(-999);
  const std::string id = env.create(pod, cc);
  const std::string daemon_adj = trimmed("/proc/" + std::to_string(env.daemon.pid()) + "/oom_score_adj");
  // Without CAP_SYS_RESOURCE (as on this machine) the kernel refuses a lower value.
  const bool can_lower = (std::stoull(proc_status_field(::getpid(), "CapEff"), nullptr, 16) >> 24) & 1;
  EXPECT_EQ(trimmed("/proc/" + std::to_string(pid_of(env.daemon, id)) + "/oom_score_adj"),
            can_lower ? "-999" : daemon_adj);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

class Handlers : public ::testing::TestWithParam<std::string> {};

TEST_P(Handlers, SmokeFlow) {
  // crun refuses hybrid hosts whose v2 mount has controllers enabled (this
  // machine's has hugetlb): its daemon runs where that mount lists none, as
  // the runtime suite runs crun.
  ContainerEnv env({}, {}, GetParam() == "crun");
  auto pc = pod_config("h-" + GetParam());
  std::string pod;
  v1::RunPodSandboxRequest req;
  pc.set_log_directory(env.daemon.dir() / "logs/h");
  *req.mutable_config() = pc;
  req.set_runtime_handler(GetParam());
  v1::RunPodSandboxResponse res;
  auto s = env.daemon.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &res);
  ASSERT_TRUE(s.ok()) << s.error_message();
  pod = res.pod_sandbox_id();
  env.pods[pod] = pc;
  const std::string id = env.create(
      pod, container_config("c", env.image, {"sh", "-c", "echo hi; trap 'exit 143' TERM; while true; do sleep 0.1; done"}));
  EXPECT_TRUE(wait_state(env.daemon, id, v1::CONTAINER_RUNNING));
  EXPECT_TRUE(wait_log(env.daemon, id, "stdout F hi"));
  auto ex = exec_sync(env.daemon, id, {"sh", "-c", "echo x; exit 4"});
  ASSERT_TRUE(ex.status.ok()) << ex.status.error_message();
  EXPECT_EQ(ex.exit_code, 4);
  EXPECT_EQ(ex.out, "x\n");
  EXPECT_EQ(exec_sync(env.daemon, id, {"hostname"}).out, pc.hostname() + "\n");
  const int pid = pid_of(env.daemon, id);
  ASSERT_TRUE(stop_container(env.daemon, id, 5).ok());
  EXPECT_EQ(container_status(env.daemon, id).status().exit_code(), 128 + SIGTERM);
  EXPECT_FALSE(process_alive(pid));
  ASSERT_TRUE(remove_container(env.daemon, id).ok());
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

INSTANTIATE_TEST_SUITE_P(Container, Handlers, ::testing::Values("crius", "runc", "crun"));

TEST(Container, UnknownRuntimeHandlerIsRefused) {
  ContainerEnv env;
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = pod_config("nohandler");
  req.set_runtime_handler("kata");
  v1::RunPodSandboxResponse res;
  auto s = env.daemon.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &res);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("kata"), std::string::npos);
}

TEST(Container, StatusListsTheHandlersWithTheirFeatures) {
  ContainerEnv env;
  v1::StatusRequest req;
  v1::StatusResponse res;
  ASSERT_TRUE(env.daemon.runtime()->Status(deadline_ctx().get(), req, &res).ok());
  std::set<std::string> names;
  for (const auto& h : res.runtime_handlers()) names.insert(h.name());
  EXPECT_TRUE(names.count("crius"));
  EXPECT_TRUE(names.count("runc"));
  EXPECT_TRUE(names.count("crun"));
}

}  // namespace
}  // namespace crius::test
