#include "sandbox/pause.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "conf/error.h"
#include "sandbox/namespaces.h"

namespace crius::sandbox {

namespace {

constexpr const char* kName = "crius-pause";

// Everything the child needs, prepared before clone: after it, the child of
// a multithreaded process may only make async-signal-safe calls.
struct ChildArgs {
  std::vector<int> ns_fds;
  const char* binary;
  const char* root;
  const char* target;  // root + "/crius-pause"
  int error_pipe;      // the child writes errno here when a step fails
};

[[noreturn]] void child_fail(const ChildArgs* a, int step) {
  int msg[2] = {step, errno};
  if (::write(a->error_pipe, msg, sizeof msg) < 0) {
  }
  ::_exit(127);
}

int child_main(void* arg) {
  const auto* a = static_cast<const ChildArgs*>(arg);
  for (int fd : a->ns_fds)
    if (::setns(fd, 0) != 0) child_fail(a, 1);
  // Nothing this process mounts may reach the node.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(a, 2);
  if (::mount("pause-root", a->root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0555") != 0) child_fail(a, 3);
  int fd = ::open(a->target, O_CREAT | O_WRONLY | O_CLOEXEC, 0555);
  if (fd < 0) child_fail(a, 4);
  ::close(fd);
  if (::mount(a->binary, a->target, nullptr, MS_BIND, nullptr) != 0) child_fail(a, 5);
  if (::mount(nullptr, a->root, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
    child_fail(a, 6);
  if (::chdir(a->root) != 0) child_fail(a, 7);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) child_fail(a, 8);
  if (::umount2(".", MNT_DETACH) != 0) child_fail(a, 9);
  if (::chdir("/") != 0) child_fail(a, 10);
  // The daemon's own descriptors (its metrics listener, opened without
  // close-on-exec) must not outlive it in the pod.
  if (::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) child_fail(a, 12);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  char* argv[] = {const_cast<char*>(kName), nullptr};
  char* envp[] = {nullptr};
  ::execve("/crius-pause", argv, envp);
  child_fail(a, 11);
}

const char* step_name(int step) {
  static const char* names[] = {"?", "joining the pod namespaces", "making mounts private", "mounting its root tmpfs",
                                "creating its binary file", "bind-mounting the binary", "making its root read-only",
                                "entering its root", "pivot_root", "detaching the old root", "chdir /", "exec",
                                "marking descriptors close-on-exec"};
  return step >= 0 && step <= 12 ? names[step] : "?";
}

}  // namespace

bool is_pause(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  return std::getline(in, comm) && comm == kName;
}

std::string default_pause_binary() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string self(buf, static_cast<size_t>(n));
  std::string p = self.substr(0, self.rfind('/')) + "/" + kName;
  return ::access(p.c_str(), X_OK) == 0 ? p : "";
}

PauseProcess PauseProcess::start(const std::string& binary, const std::map<std::string, std::string>& join,
                                 const std::string& root_dir, const std::string& pid_pin) {
  if (binary.empty() || ::access(binary.c_str(), X_OK) != 0)
    throw FailedPrecondition("the pod shares its PID namespace, but the crius-pause binary is missing (looked beside "
                             "the crius binary)");
  if (::mkdir(root_dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw Internal(errno_text("creating crius-pause root " + root_dir, errno));

  ChildArgs args;
  struct Fds {
    std::vector<int> fds;
    ~Fds() {
      for (int f : fds) ::close(f);
    }
  } owned;
  for (const auto& [kind, path] : join) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Internal(errno_text("opening pod namespace " + path + " for crius-pause", errno));
    owned.fds.push_back(fd);
  }
  args.ns_fds = owned.fds;
  args.binary = binary.c_str();
  args.root = root_dir.c_str();
  const std::string target = root_dir + "/" + kName;
  args.target = target.c_str();
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw Internal(errno_text("creating a pipe for crius-pause", errno));
  args.error_pipe = pipefd[1];

  constexpr size_t kStack = 256 * 1024;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    throw Internal(errno_text("allocating a stack for crius-pause", errno));
  }
  pid_t pid = ::clone(child_main, static_cast<char*>(stack) + kStack, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, &args);
  int clone_err = errno;
  ::close(pipefd[1]);
  PauseProcess out;
  if (pid < 0) {
    ::munmap(stack, kStack);
    ::close(pipefd[0]);
    throw Internal(errno_text("starting crius-pause (clone with a new PID namespace)", clone_err));
  }
  out.pid_ = pid;
  // The pipe closes on exec (success) or carries the failed step.
  int msg[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(pipefd[0], msg, sizeof msg);
  } while (got < 0 && errno == EINTR);
  ::close(pipefd[0]);
  ::munmap(stack, kStack);  // the child has exec'd or exited: its copy is gone
  if (got == static_cast<ssize_t>(sizeof msg))
    throw Internal(errno_text(std::string("starting crius-pause: ") + step_name(msg[0]), msg[1]));

  // Pin its PID namespace so that containers can join it by path.
  int fd = ::open(pid_pin.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) throw Internal(errno_text("creating PID namespace pin " + pid_pin, errno));
  ::close(fd);
  const std::string source = "/proc/" + std::to_string(pid) + "/ns/pid";
  if (::mount(source.c_str(), pid_pin.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    int err = errno;
    ::unlink(pid_pin.c_str());
    throw Internal(errno_text("pinning the pod PID namespace at " + pid_pin, err));
  }
  return out;
}

PauseProcess::~PauseProcess() {
  if (pid_ > 0) kill_pause(pid_);
}

void kill_pause(pid_t pid) {
  if (pid <= 0) return;
  // Our own child: kill and reap. After a daemon restart it is not our
  // child; then check it is still crius-pause before killing.
  int status = 0;
  pid_t w = ::waitpid(pid, &status, WNOHANG);
  if (w == pid) return;  // already dead, now reaped
  const bool ours = w == 0;
  if (!ours && !is_pause(pid)) return;
  ::kill(pid, SIGKILL);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    // ECHILD: the pause watch (pause_watch.h) reaped it first.
    if (ours) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno == ECHILD)) return;
    } else if (::kill(pid, 0) != 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace crius::sandbox
