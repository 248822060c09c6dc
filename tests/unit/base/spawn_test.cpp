// base/spawn: what the child gets (its fds, session, group, environment,
// directory, signals) and how a program that cannot start is reported.
#include "base/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "base/fd.h"

namespace crius {
namespace {

// Runs a shell script under spawn with its stdout on a pipe: what it wrote
// and how it ended.
struct Ran {
  std::string out;
  int status = -1;
};

Ran run(SpawnOptions o, const std::string& script) {
  auto [r, w] = make_pipe("test output");
  o.args = {"/bin/sh", "-c", script};
  o.fds.insert(o.fds.begin(), {w.get(), 1});
  const Spawned s = spawn(o);
  EXPECT_GT(s.pid, 0) << s.error;
  w.reset();
  Ran out;
  char buf[4096];
  for (ssize_t n; (n = ::read(r.get(), buf, sizeof buf)) > 0;) out.out.append(buf, static_cast<size_t>(n));
  if (s.pid > 0) ::waitpid(s.pid, &out.status, 0);
  return out;
}

TEST(Spawn, OnlyTheListedDescriptorsReachTheChild) {
  const Fd kept = open_fd("/dev/null", O_RDONLY);  // close-on-exec, as ours are
  const Fd open_one(::open("/dev/null", O_RDONLY));  // not close-on-exec
  ASSERT_TRUE(open_one);
  SpawnOptions o;
  o.fds = {{kept.get(), 5}};
  // 0, 2 and open_one were not given: only 1 (the pipe) and 5 are open.
  const Ran r = run(o, "for f in $(seq 0 63); do [ -e /proc/self/fd/$f ] && printf '%s ' $f; done; true");
  EXPECT_EQ(r.out, "1 5 ");
  EXPECT_EQ(r.status, 0);
}

TEST(Spawn, DescriptorsSwappedOnTheWayStayApart) {
  auto [a_r, a_w] = make_pipe("a");
  auto [b_r, b_w] = make_pipe("b");
  const int a = a_w.get(), b = b_w.get();
  SpawnOptions o;
  // Pipe a's writer becomes the child's fd b, and b's becomes its fd a.
  o.fds = {{a, b}, {b, a}};
  o.args = {"/bin/sh", "-c",
            "echo to-a > /proc/self/fd/" + std::to_string(b) + "; echo to-b > /proc/self/fd/" + std::to_string(a)};
  const Spawned s = spawn(o);
  ASSERT_GT(s.pid, 0) << s.error;
  a_w.reset();
  b_w.reset();
  int status = -1;
  ::waitpid(s.pid, &status, 0);
  EXPECT_EQ(status, 0);
  char buf[64];
  ssize_t n = ::read(a_r.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "to-a\n");
  n = ::read(b_r.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "to-b\n");
}

TEST(Spawn, SessionGroupDirectoryAndEnvironment) {
  const std::vector<std::string> env = {"ONLY=this"};
  SpawnOptions o;
  o.env = &env;
  o.cwd = "/proc";
  o.new_session = true;
  Ran r = run(o, "echo $ONLY ${HOME-no-home} $(pwd); test $(/usr/bin/cut -d' ' -f6 /proc/self/stat) = $$ && echo session");
  EXPECT_EQ(r.out, "this no-home /proc\nsession\n");

  o = SpawnOptions{};
  o.new_group = true;
  r = run(o, "test $(/usr/bin/cut -d' ' -f5 /proc/self/stat) = $$ && echo group");
  EXPECT_EQ(r.out, "group\n");
}

TEST(Spawn, TheChildStartsWithNoSignalBlockedOrIgnored) {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &term, &old);
  struct sigaction ign {}, prev {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGUSR1, &ign, &prev);
  // Signals 1-31 (bits 0-30): glibc keeps its own (32 and 33) as they are.
  const Ran r = run(SpawnOptions{},
                    "status() { awk -v k=$1: '$1 == k { print $2 }' /proc/self/status; }; "
                    "echo $((0x$(status SigBlk))) $((0x$(status SigIgn) & 0x7fffffff))");
  ::sigaction(SIGUSR1, &prev, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(r.out, "0 0\n");
}

TEST(Spawn, AProgramThatCannotRunIsAnErrorNotAChild) {
  SpawnOptions o;
  o.args = {"/nonexistent/program"};
  Spawned s = spawn(o);
  EXPECT_EQ(s.pid, -1);
  EXPECT_EQ(s.error, ENOENT);
  char not_executable[] = "/tmp/crius-spawn-test-XXXXXX";
  const Fd file(::mkstemp(not_executable));  // mode 0600
  ASSERT_TRUE(file);
  o.args = {not_executable};
  s = spawn(o);
  ::unlink(not_executable);
  EXPECT_EQ(s.pid, -1);
  EXPECT_EQ(s.error, EACCES);
  o.args.clear();
  EXPECT_EQ(spawn(o).error, EINVAL);
  // No child was left to reap.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Spawn, ABareNameIsLookedForInPathOnlyWhenAsked) {
  // "sh" relative to the child's directory, /, where there is none, unless PATH is searched.
  SpawnOptions o;
  o.args = {"sh", "-c", "exit 7"};
  o.cwd = "/";
  Spawned s = spawn(o);
  EXPECT_EQ(s.pid, -1);
  EXPECT_EQ(s.error, ENOENT);
  o.search_path = true;
  s = spawn(o);
  ASSERT_GT(s.pid, 0) << s.error;
  int status = 0;
  ::waitpid(s.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
  o.args = {"crius-no-such-program"};
  s = spawn(o);
  EXPECT_EQ(s.pid, -1);
  EXPECT_EQ(s.error, ENOENT);
}

TEST(Spawn, ABadNetworkNamespaceIsReported) {
  const Fd not_a_namespace = open_fd("/dev/null", O_RDONLY);
  SpawnOptions o;
  o.args = {"/bin/true"};
  o.netns_fd = not_a_namespace.get();
  const Spawned s = spawn(o);
  EXPECT_EQ(s.pid, -1);
  EXPECT_EQ(s.error, EINVAL);
}

}  // namespace
}  // namespace crius
