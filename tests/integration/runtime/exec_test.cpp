// exec: a new process in a running container joins the namespaces and the
// cgroups of its init, gets the container's security settings (capabilities,
// no_new_privs, seccomp) and the process's own (user, env, cwd, terminal),
// and its exit status comes back as the runtime's.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <thread>

#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Exec);

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A running container whose init sleeps; the test execs into it.
struct Running {
  std::unique_ptr<Bundle> b;
  std::unique_ptr<Container> c;
  pid_t init = -1;
  std::vector<pid_t> execd;  // detached exec'd processes, our children (we are a subreaper)
  Running() = default;
  Running(Running&&) = default;
  // A dying pid namespace init waits until every other process of the
  // namespace is reaped, and we are the reaper of the detached ones: reap
  // them first, or the runtime's delete would wait on us.
  ~Running() {
    for (pid_t p : execd) {
      ::kill(p, SIGKILL);
      wait_gone(p, 5s);
    }
  }
};

class ExecHelpers {
 public:
  // `exec --detach --pid-file F <id> args…`; returns the pid (also kept in
  // run.execd), or -1 with the result in `error`.
  static pid_t detached(const Runtime& rt, const fs::path& dir, Running& run, const std::vector<std::string>& flags,
                        const std::vector<std::string>& args, std::string* error) {
    const std::string& id = run.c->id();
    static int n = 0;
    const fs::path pid_file = dir / ("exec-" + std::to_string(++n) + ".pid");
    std::vector<std::string> cmd = {"exec", "--detach", "--pid-file", pid_file.string()};
    cmd.insert(cmd.end(), flags.begin(), flags.end());
    cmd.push_back(id);
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto r = rt.cmd(cmd);
    if (!r.ok() || !wait_for_file(pid_file, 5s, true)) {
      *error = r.describe();
      return -1;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(read_file(pid_file)));
    run.execd.push_back(pid);
    return pid;
  }
};

Running launch_sleeper(std::unique_ptr<Bundle> b, std::unique_ptr<Container> c, std::string* error) {
  Running r;
  b->args({"sleep", "600"});
  r.init = c->launch(*b, "sleep", error);
  r.b = std::move(b);
  r.c = std::move(c);
  return r;
}

TEST_P(Exec, JoinsEveryNamespaceAndTheCgroupsOfInit) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  pid_t pid = ExecHelpers::detached(rt(), tmp(), run, {}, {"sleep", "600"}, &error);
  ASSERT_GT(pid, 0) << error;
  ASSERT_TRUE(wait_for_comm(pid, "sleep")) << "exec'd process did not exec sleep";
  for (const char* ns : {"mnt", "pid", "net", "ipc", "uts", "user", "cgroup"}) {
    EXPECT_EQ(ns_inode(pid, ns), ns_inode(run.init, ns)) << ns;
    EXPECT_NE(ns_inode(pid, ns), 0u) << ns;
  }
  // The container has its own pid, mount, ipc, uts and network namespaces.
  for (const char* ns : {"mnt", "pid", "net", "ipc", "uts"}) EXPECT_NE(ns_inode(pid, ns), ns_inode(::getpid(), ns)) << ns;
  const std::string init_cgroup = read_file("/proc/" + std::to_string(run.init) + "/cgroup");
  EXPECT_FALSE(init_cgroup.empty());
  EXPECT_EQ(read_file("/proc/" + std::to_string(pid) + "/cgroup"), init_cgroup);
}

TEST_P(Exec, ExecdProcessIsListedInTheContainersPidNamespace) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  pid_t pid = ExecHelpers::detached(rt(), tmp(), run, {}, {"sleep", "599"}, &error);
  ASSERT_GT(pid, 0) << error;
  ASSERT_TRUE(wait_for_comm(pid, "sleep"));
  // NSpid: <host pid> <pid in the container>.
  std::istringstream nspid(proc_status_field(pid, "NSpid"));
  std::string host_pid, inner_pid;
  nspid >> host_pid >> inner_pid;
  ASSERT_FALSE(inner_pid.empty()) << "exec'd process is not in a nested pid namespace";
  EXPECT_NE(inner_pid, "1");
  // The container's /proc (its pid namespace) lists it with its arguments.
  auto r = rt().cmd({"exec", run.c->id(), "cat", "/proc/" + inner_pid + "/cmdline"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, std::string("sleep\0" "599\0", 10)) << r.describe();
}

TEST_P(Exec, GetsTheContainersCapabilitiesAndNoNewPrivs) {
  auto b = bundle();
  const std::vector<std::string> caps = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"};
  b->spec["process"]["capabilities"] = {{"bounding", caps},
                                        {"effective", caps},
                                        {"permitted", caps},
                                        {"inheritable", nlohmann::json::array()},
                                        {"ambient", nlohmann::json::array()}};
  b->spec["process"]["noNewPrivileges"] = false;
  std::string error;
  auto run = launch_sleeper(std::move(b), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  pid_t pid = ExecHelpers::detached(rt(), tmp(), run, {}, {"sleep", "600"}, &error);
  ASSERT_GT(pid, 0) << error;
  ASSERT_TRUE(wait_for_comm(pid, "sleep"));
  EXPECT_EQ(proc_status_field(pid, "CapEff"), hex(cap_mask(caps)));
  EXPECT_EQ(proc_status_field(pid, "CapBnd"), hex(cap_mask(caps)));
  EXPECT_EQ(proc_status_field(pid, "NoNewPrivs"), "0");

  pid_t nnp = ExecHelpers::detached(rt(), tmp(), run, {"--no-new-privs"}, {"sleep", "600"}, &error);
  ASSERT_GT(nnp, 0) << error;
  ASSERT_TRUE(wait_for_comm(nnp, "sleep"));
  EXPECT_EQ(proc_status_field(nnp, "NoNewPrivs"), "1");
  EXPECT_EQ(proc_status_field(nnp, "CapBnd"), hex(cap_mask(caps)));
}

TEST_P(Exec, SeccompFilterOfTheContainerApplies) {
  auto b = bundle();
  b->spec["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                                 {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 28}}}}};
  std::string error;
  auto run = launch_sleeper(std::move(b), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  auto r = rt().cmd({"exec", run.c->id(), "sh", "-c", "mkdir /tmp/d 2>&1; touch /tmp/f && echo touch-ok"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  // ENOSPC, the profile's errnoRet: the filter is the container's one.
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("touch-ok"), std::string::npos) << r.describe();
  EXPECT_FALSE(fs::exists(run.b->rootfs() / "tmp/d"));
  pid_t pid = ExecHelpers::detached(rt(), tmp(), run, {}, {"sleep", "600"}, &error);
  ASSERT_GT(pid, 0) << error;
  ASSERT_TRUE(wait_for_comm(pid, "sleep"));
  EXPECT_EQ(proc_status_field(pid, "Seccomp"), "2");  // filter mode
}

TEST_P(Exec, AdditionalGidsFlag) {
  CRIUS_SKIP_REFERENCE_GAP("crun", "crun 1.8.1 has no exec --additional-gids");
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  auto r = rt().cmd({"exec", "--user", "1000:1001", "--additional-gids", "2000", "--additional-gids", "3000",
                     run.c->id(), "sh", "-c", "grep -E '^Groups:' /proc/self/status | tr -s '\\t ' ' '"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("Groups: 2000 3000"), std::string::npos) << r.describe();
}

TEST_P(Exec, UserEnvAndCwdFromFlags) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  auto r = rt().cmd({"exec", "--user", "1000:1001", "--env", "FOO=bar",
                     "--env", "EMPTY=", "--cwd", "/tmp", run.c->id(), "/bin/sh", "-c",
                     "grep -E '^(Uid|Gid|Groups):' /proc/self/status | tr -s '\\t ' ' '; echo \"foo=$FOO|$(pwd)\""});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("Uid: 1000 1000 1000 1000"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("Gid: 1001 1001 1001 1001"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("foo=bar|/tmp"), std::string::npos) << r.describe();
}

TEST_P(Exec, ProcessFile) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  const fs::path file = tmp() / "process.json";
  nlohmann::json p = {{"terminal", false},
                      {"user", {{"uid", 0}, {"gid", 0}}},
                      {"args", {"sh", "-c", "echo \"$ONLY|$(pwd)|$(umask)\""}},
                      {"env", {"PATH=/bin:/usr/bin", "ONLY=this"}},
                      {"cwd", "/etc"}};
  p["user"]["umask"] = 077;
  write_file(file, p.dump());
  auto r = rt().cmd({"exec", "--process", file.string(), run.c->id()});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  // runc 1.1.5 ignores user.umask in exec (it keeps 0022).
  EXPECT_EQ(r.out, is("runc") ? "this|/etc|0022\n" : "this|/etc|0077\n") << r.describe();
}

TEST_P(Exec, PreserveFds) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  const fs::path data = tmp() / "fd3.txt";
  write_file(data, "through-fd3\n");
  int fd = ::open(data.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  SpawnOptions o;
  o.pass_fds = {fd};
  auto r = rt().cmd({"exec", "--preserve-fds", "1", run.c->id(), "sh", "-c", "cat <&3; ls /proc/self/fd | wc -l"}, o);
  ::close(fd);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  // stdio, fd 3, and the fd ls opens for /proc/self/fd.
  EXPECT_EQ(r.out, "through-fd3\n5\n") << r.describe();
}

TEST_P(Exec, ExitStatusPropagates) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  auto r = rt().cmd({"exec", run.c->id(), "sh", "-c", "exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.describe();
  r = rt().cmd({"exec", run.c->id(), "true"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  r = rt().cmd({"exec", run.c->id(), "sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.describe();
}

TEST_P(Exec, MissingExecutableFails) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  auto r = rt().cmd({"exec", run.c->id(), "/no/such/binary"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(rt().status(run.c->id()), "running");
}

TEST_P(Exec, IntoAStoppedContainerFails) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  ASSERT_TRUE(rt().kill(run.c->id(), "KILL").ok());
  ASSERT_TRUE(wait_gone(run.init));
  ASSERT_TRUE(rt().wait_status(run.c->id(), "stopped"));
  auto r = rt().cmd({"exec", run.c->id(), "true"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
}

// A listening unix socket that receives one pty master by SCM_RIGHTS.
class ConsoleListener {
 public:
  explicit ConsoleListener(const fs::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 1) != 0)
      throw std::runtime_error("console socket " + path.string() + ": " + std::strerror(errno));
  }
  ~ConsoleListener() {
    if (master_ >= 0) ::close(master_);
    if (fd_ >= 0) ::close(fd_);
  }
  int receive(std::chrono::milliseconds timeout) {
    pollfd p = {fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return -1;
    char data[256];
    iovec iov = {data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    p = {conn, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(&master_, CMSG_DATA(c), sizeof(int));
    }
    ::close(conn);
    return master_;
  }
  std::string read_until(const std::string& want, std::chrono::milliseconds timeout) {
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (text.find(want) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p = {master_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
      char buf[512];
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    return text;
  }

 private:
  int fd_ = -1;
  int master_ = -1;
};

TEST_P(Exec, TerminalThroughConsoleSocket) {
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  const fs::path sock = tmp() / "console.sock";
  ConsoleListener console(sock);
  int master = -1;
  std::thread receiver([&] { master = console.receive(10s); });
  const fs::path pid_file = tmp() / "tty.pid";
  auto r = rt().cmd({"exec", "--tty", "--detach", "--console-socket", sock.string(), "--pid-file", pid_file.string(),
                     run.c->id(), "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo tty-ok; sleep 600"});
  receiver.join();
  ASSERT_TRUE(r.ok()) << r.describe();
  ASSERT_TRUE(wait_for_file(pid_file, 5s, true));
  run.execd.push_back(static_cast<pid_t>(std::stol(read_file(pid_file))));
  ASSERT_GE(master, 0) << "no pty master received";
  std::string text = console.read_until("tty-ok", 5s);
  EXPECT_NE(text.find("/dev/pts/"), std::string::npos) << text;
  EXPECT_NE(text.find("tty-ok"), std::string::npos) << text;
}

// --tty without --console-socket: the runtime keeps the pty master and
// copies between it and its own stdio until the process exits.
TEST_P(Exec, TerminalProxiedByTheRuntime) {
  // Our stdin here is a file, not a terminal.
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 exec --tty needs a controlling terminal (open /dev/tty)");
  CRIUS_SKIP_REFERENCE_GAP("crun", "crun 1.8.1 exec --tty needs stdin to be a terminal (tcgetattr)");
  std::string error;
  auto run = launch_sleeper(bundle(), container(), &error);
  ASSERT_GT(run.init, 0) << error;
  auto r = rt().cmd({"exec", "--tty", run.c->id(), "sh", "-c", "tty; [ -t 1 ] && echo tty-ok; exit 4"});
  EXPECT_EQ(r.exit_code, 4) << r.describe();
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("tty-ok"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace crius::testing::rt
