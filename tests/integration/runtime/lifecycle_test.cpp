// The container lifecycle of the OCI runtime spec through runc's verbs:
// create/start split, state, kill, delete, run.
#include <signal.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "tests/integration/runtime/fixture.h"
#include "tests/support/eventually.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Lifecycle);

TEST_P(Lifecycle, CreateStopsBeforeTheUserProgram) {
  auto b = bundle();
  b->sh("touch /tmp/started; exec sleep 60");
  auto c = container();
  const fs::path pidfile = tmp() / "pidfile";
  auto r = c->create(*b, {"--pid-file", pidfile.string()});
  ASSERT_TRUE(r.ok()) << r.describe();

  auto st = rt().state_json(c->id());
  EXPECT_EQ(st.value("status", ""), "created");
  pid_t pid = st.value("pid", -1);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(pid_alive(pid)) << "init " << pid << " should exist after create";
  EXPECT_EQ(std::stoi(read_file(pidfile)), pid) << "--pid-file must hold the init pid";
  // Init waits before exec'ing the user's program: it is still the
  // runtime's image, blocked (not running) on the exec fifo.
  EXPECT_TRUE(eventually([&] { return proc_status_field(pid, "State").starts_with("S"); }))
      << "init is not waiting for start";
  EXPECT_NE(fs::read_symlink("/proc/" + std::to_string(pid) + "/exe").filename(), "busybox")
      << "the user's program was exec'd before start";
  EXPECT_FALSE(fs::exists(b->rootfs() / "tmp/started")) << "the user's program ran before start";
  EXPECT_EQ(rt().status(c->id()), "created");

  auto s = rt().start(c->id());
  ASSERT_TRUE(s.ok()) << s.describe();
  EXPECT_TRUE(wait_for_file(b->rootfs() / "tmp/started")) << "the user's program did not run after start";
  EXPECT_TRUE(wait_for_comm(pid, "sleep"));
  EXPECT_EQ(rt().status(c->id()), "running");
  EXPECT_FALSE(rt().start(c->id()).ok()) << "starting a running container twice must fail";
}

TEST_P(Lifecycle, InitIsAdoptedBySubreaperCaller) {
  // The test process is a child subreaper (as the monitor will be): once
  // create has returned, the container's init must be our child, so that we
  // get its exit status.
  auto b = bundle();
  b->args({"sleep", "60"});
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  pid_t pid = c->last_pid();
  ASSERT_GT(pid, 0);
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  ASSERT_NE(close, std::string::npos) << stat;
  std::istringstream rest(stat.substr(close + 2));
  char state = 0;
  pid_t ppid = 0;
  rest >> state >> ppid;
  EXPECT_EQ(ppid, ::getpid()) << "init's parent after create";
}

TEST_P(Lifecycle, StateFields) {
  auto b = bundle();
  b->args({"sleep", "60"});
  b->spec["annotations"] = {{"org.crius.test", "yes"}, {"other", "2"}};
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;

  auto st = rt().state_json(c->id());
  EXPECT_TRUE(st.contains("ociVersion") && st["ociVersion"].is_string() && !st["ociVersion"].get<std::string>().empty())
      << st.dump();
  EXPECT_EQ(st.value("id", ""), c->id());
  EXPECT_EQ(st.value("status", ""), "running");
  EXPECT_EQ(st.value("pid", -1), pid);
  EXPECT_EQ(fs::path(st.value("bundle", "")), b->dir()) << "bundle must be the absolute bundle path";
  ASSERT_TRUE(st.contains("annotations")) << st.dump();
  EXPECT_EQ(st["annotations"], b->spec["annotations"]);

  ASSERT_TRUE(rt().kill(c->id(), "KILL").ok());
  EXPECT_TRUE(rt().wait_status(c->id(), "stopped")) << rt().state(c->id()).describe();
  EXPECT_EQ(rt().state_json(c->id()).value("id", ""), c->id());
}

TEST_P(Lifecycle, StateOfUnknownContainerFails) {
  auto r = rt().state("no-such-container");
  EXPECT_NE(r.exit_code, 0) << r.describe();
}

TEST_P(Lifecycle, CreateDuplicateIdRefused) {
  auto b = bundle();
  b->args({"sleep", "60"});
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  auto b2 = bundle("bundle2");
  auto r = rt().create(c->id(), *b2);
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(rt().status(c->id()), "created") << "the first container must be untouched";
}

TEST_P(Lifecycle, KillDeliversSignal) {
  auto b = bundle();
  // pid 1 of a pid namespace only gets signals it handles: the trap is one.
  b->sh("trap 'echo got > /tmp/usr1; exit 3' USR1; touch /tmp/ready; while :; do sleep 0.05; done");
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  ASSERT_TRUE(rt().start(c->id()).ok());
  ASSERT_TRUE(wait_for_file(b->rootfs() / "tmp/ready"));
  auto k = rt().kill(c->id(), "USR1");
  ASSERT_TRUE(k.ok()) << k.describe();
  EXPECT_TRUE(wait_for_file(b->rootfs() / "tmp/usr1", 5s, true)) << "SIGUSR1 did not reach the process";
  EXPECT_TRUE(rt().wait_status(c->id(), "stopped"));
}

TEST_P(Lifecycle, KillByNumberAndDefaultSignal) {
  auto b = bundle();
  b->sh("trap 'echo term > /tmp/term; exit 0' TERM; touch /tmp/ready; while :; do sleep 0.05; done");
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  ASSERT_TRUE(rt().start(c->id()).ok());
  ASSERT_TRUE(wait_for_file(b->rootfs() / "tmp/ready"));
  auto k = rt().kill(c->id());  // default signal is SIGTERM
  ASSERT_TRUE(k.ok()) << k.describe();
  EXPECT_TRUE(wait_for_file(b->rootfs() / "tmp/term", 5s, true)) << "default kill signal is not SIGTERM";
  EXPECT_TRUE(rt().wait_status(c->id(), "stopped"));

  auto b2 = bundle("bundle2");
  b2->args({"sleep", "60"});
  auto c2 = container();
  std::string error;
  pid_t pid = c2->launch(*b2, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  auto k9 = rt().kill(c2->id(), "9");
  ASSERT_TRUE(k9.ok()) << k9.describe();
  EXPECT_TRUE(wait_gone(pid));
}

TEST_P(Lifecycle, KillAllReachesEveryProcess) {
  auto b = bundle();
  // Without a pid namespace, killing init alone would leave its children.
  b->remove_namespace("pid");
  b->sh("sleep 60 & echo $! > /tmp/child1; sleep 60 & echo $! > /tmp/child2; touch /tmp/ready; wait");
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  pid_t init = c->last_pid();
  ASSERT_TRUE(rt().start(c->id()).ok());
  ASSERT_TRUE(wait_for_file(b->rootfs() / "tmp/ready"));
  pid_t child1 = std::stoi(read_file(b->rootfs() / "tmp/child1"));
  pid_t child2 = std::stoi(read_file(b->rootfs() / "tmp/child2"));
  ASSERT_TRUE(pid_alive(child1) && pid_alive(child2));
  auto k = rt().kill(c->id(), "KILL", true);
  ASSERT_TRUE(k.ok()) << k.describe();
  EXPECT_TRUE(wait_gone(init));
  EXPECT_TRUE(wait_gone(child1)) << "kill --all missed a child";
  EXPECT_TRUE(wait_gone(child2)) << "kill --all missed a child";
}

TEST_P(Lifecycle, KillOfStoppedContainerFails) {
  auto b = bundle();
  b->args({"true"});
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  ASSERT_TRUE(rt().start(c->id()).ok());
  ASSERT_TRUE(rt().wait_status(c->id(), "stopped"));
  auto k = rt().kill(c->id(), "KILL");
  EXPECT_NE(k.exit_code, 0) << "the spec: kill of a stopped container must generate an error\n" << k.describe();
}

TEST_P(Lifecycle, DeleteRunningRefusedWithoutForce) {
  auto b = bundle();
  b->args({"sleep", "60"});
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;

  auto d = rt().del(c->id());
  EXPECT_NE(d.exit_code, 0) << d.describe();
  EXPECT_TRUE(pid_alive(pid)) << "a refused delete must leave the container running";
  EXPECT_EQ(rt().status(c->id()), "running");

  auto f = rt().del(c->id(), true);
  ASSERT_TRUE(f.ok()) << f.describe();
  EXPECT_TRUE(wait_gone(pid));
  EXPECT_NE(rt().state(c->id()).exit_code, 0) << "state must fail after delete";
  EXPECT_FALSE(fs::exists(rt().root() / c->id())) << "state dir left after delete --force";
}

TEST_P(Lifecycle, DeleteCreatedWithoutForce) {
  // runc and crun both delete a created (never started) container without
  // --force, killing its init; the spec's "not stopped" wording would refuse
  // it. We follow the references here since cri-o and containerd rely on it.
  auto b = bundle();
  b->args({"sleep", "60"});
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  pid_t pid = c->last_pid();
  auto d = rt().del(c->id());
  if (d.ok()) {
    EXPECT_TRUE(wait_gone(pid)) << "delete of a created container left its init";
    EXPECT_NE(rt().state(c->id()).exit_code, 0);
  } else {
    EXPECT_EQ(rt().status(c->id()), "created") << "a refused delete must leave the container as it was";
  }
}

TEST_P(Lifecycle, DeleteStoppedRemovesEverything) {
  auto b = bundle();
  b->args({"true"});
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  ASSERT_TRUE(rt().start(c->id()).ok());
  ASSERT_TRUE(rt().wait_status(c->id(), "stopped"));
  auto d = rt().del(c->id());
  ASSERT_TRUE(d.ok()) << d.describe();
  EXPECT_NE(rt().state(c->id()).exit_code, 0);
  EXPECT_FALSE(fs::exists(rt().root() / c->id()));
}

TEST_P(Lifecycle, RunReturnsExitStatus) {
  auto b = bundle();
  b->sh("echo out-text; echo err-text >&2; exit 42");
  const std::string id = unique_id("run");
  auto r = rt().run(id, *b);
  EXPECT_EQ(r.exit_code, 42) << r.describe();
  EXPECT_NE(r.out.find("out-text"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("err-text"), std::string::npos) << r.describe();
  rt().del(id, true);  // run removes it already; this must not leave anything either

  auto b0 = bundle("bundle0");
  b0->args({"true"});
  auto r0 = rt().run(unique_id("run"), *b0);
  EXPECT_EQ(r0.exit_code, 0) << r0.describe();
}

TEST_P(Lifecycle, RunOfSignalledProcess) {
  // A process killed by a signal: runc reports 128+signal as its exit status.
  auto b = bundle();
  b->sh("kill -KILL $$");
  b->remove_namespace("pid");  // pid 1 of a pid namespace cannot be killed from inside
  auto r = rt().run(unique_id("run"), *b);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.describe();
}

}  // namespace
}  // namespace crius::testing::rt
