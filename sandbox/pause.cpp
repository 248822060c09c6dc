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
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/proc_stat.h"
#include "base/process.h"
#include "base/self_exe.h"
#include "base/strings.h"
#include "base/wait.h"
#include "sandbox/namespaces.h"

namespace crius::sandbox {

namespace {

constexpr const char* kName = "crius-pause";
// How long a SIGKILLed crius-pause may take to go.
constexpr std::chrono::seconds kKillWait(10);

// The child's steps are not instrumented: they run on a stack ASan does not
// know (it warns at their noreturn calls), inside a root where a sanitizer's
// report file cannot be opened, which kills the child before its exec.
#define CRIUS_CLONE_CHILD __attribute__((no_sanitize("address", "undefined")))

// The child borrows the daemon's memory until it execs (CLONE_VM, with the
// daemon's thread asleep meanwhile: CLONE_VFORK), as posix_spawn does: a
// copy of the daemon's page tables, and tearing it down at the exec, were
// most of a pod's 8 ms for crius-pause. ThreadSanitizer's runtime cannot
// follow a process that borrows another's memory: there the child copies it.
#if defined(__SANITIZE_THREAD__)
#define CRIUS_CLONE_SHARED_VM 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CRIUS_CLONE_SHARED_VM 0
#endif
#endif
#ifndef CRIUS_CLONE_SHARED_VM
#define CRIUS_CLONE_SHARED_VM (CLONE_VM | CLONE_VFORK)
#endif

// Everything the child needs, prepared before clone: after it, the child of
// a multithreaded process may only make async-signal-safe calls.
struct ChildArgs {
  std::vector<int> ns_fds;  // net, ipc, uts
  int user_fd = -1;         // the pod's user namespace, when it has one
  void* inner_stack = nullptr;
  const char* binary;
  const char* root;
  const char* target;  // root + "/crius-pause"
  int error_pipe;      // the child writes errno here when a step fails
};

[[noreturn]] CRIUS_CLONE_CHILD void child_fail(const ChildArgs* a, int step) {
  int msg[2] = {step, errno};
  // Cannot fail short of a bug (the parent holds the read end open until it
  // has read this, and 8 bytes fit in any pipe), and exiting is all that
  // would be left to do if it did.
  if (::write(a->error_pipe, msg, sizeof msg) < 0) {
  }
  ::_exit(127);
}

[[noreturn]] CRIUS_CLONE_CHILD void exec_pause(const ChildArgs* a) {
  char* argv[] = {const_cast<char*>(kName), nullptr};
  char* envp[] = {nullptr};
  ::execve("/crius-pause", argv, envp);
  child_fail(a, 11);
}

CRIUS_CLONE_CHILD int inner_main(void* arg) { exec_pause(static_cast<const ChildArgs*>(arg)); }

// The first message of a pod with a user namespace: the pid of crius-pause.
constexpr int kPidMessage = -1;

CRIUS_CLONE_CHILD int child_main(void* arg) {
  const auto* a = static_cast<const ChildArgs*>(arg);
  for (int fd : a->ns_fds)
    if (::setns(fd, 0) != 0) child_fail(a, 1);
  // Nothing this process mounts may reach the node.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(a, 2);
  if (::mount("pause-root", a->root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0555") != 0) child_fail(a, 3);
  if (const Fd file(::open(a->target, O_CREAT | O_WRONLY | O_CLOEXEC, 0555)); !file) child_fail(a, 4);
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
  // A handler of the daemon must not run here, in its memory: every caught
  // signal goes back to its default action (the table is this process's own
  // copy) before the mask the daemon set around clone is lifted.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(sig, &dfl, nullptr);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (a->user_fd < 0) exec_pause(a);
  // A pod with a user namespace: its PID namespace must be owned by it (so
  // that the pod's root can mount /proc for it), so it is made by a process
  // inside, after the mounts above (made with the node's rights). The new
  // process is the daemon's child (CLONE_PARENT), so this one just reports
  // its pid and goes. Raw system calls: glibc's set*id would signal the
  // daemon's other threads, which this process does not have.
  if (::setns(a->user_fd, CLONE_NEWUSER) != 0) child_fail(a, 13);
  if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setresgid, 0, 0, 0) != 0 ||
      ::syscall(SYS_setresuid, 0, 0, 0) != 0)
    child_fail(a, 14);
  const pid_t pid = ::clone(inner_main, a->inner_stack, CRIUS_CLONE_SHARED_VM | CLONE_PARENT | CLONE_NEWPID,
                            const_cast<ChildArgs*>(a));
  if (pid < 0) child_fail(a, 15);
  int msg[2] = {kPidMessage, pid};
  if (::write(a->error_pipe, msg, sizeof msg) < 0) {
  }
  ::_exit(0);
}

const char* step_name(int step) {
  static const char* names[] = {"?", "joining the pod namespaces", "making mounts private", "mounting its root tmpfs",
                                "creating its binary file", "bind-mounting the binary", "making its root read-only",
                                "entering its root", "pivot_root", "detaching the old root", "chdir /", "exec",
                                "marking descriptors close-on-exec", "joining the pod's user namespace",
                                "becoming root of the pod's user namespace", "cloning into a new PID namespace"};
  return step >= 0 && step <= 15 ? names[step] : "?";
}

// The child's stack, unmapped when start() returns (by then the child has
// exec'd or exited, and its copy of the memory is gone).
class Stack {
 public:
  static constexpr size_t kSize = 256 * 1024;
  Stack() : base_(::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {
    if (base_ == MAP_FAILED) throw Internal(errno_text("allocating a stack for crius-pause", errno));
  }
  ~Stack() { ::munmap(base_, kSize); }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  void* top() const { return static_cast<char*>(base_) + kSize; }

 private:
  void* base_;
};

}  // namespace

bool is_pause(pid_t pid) { return trim(read_file_or_empty("/proc/" + std::to_string(pid) + "/comm")) == kName; }

std::string default_pause_binary() { return sibling_executable(kName); }

PauseProcess PauseProcess::start(const std::string& binary, const std::map<std::string, std::string>& join,
                                 const std::string& root_dir, const std::string& pid_pin) {
  if (binary.empty() || ::access(binary.c_str(), X_OK) != 0)
    throw FailedPrecondition("the pod shares its PID namespace, but the crius-pause binary is missing (looked beside "
                             "the crius binary)");
  if (::mkdir(root_dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw Internal(errno_text("creating crius-pause root " + root_dir, errno));

  ChildArgs args;
  std::vector<Fd> ns_fds;
  for (const auto& [kind, path] : join) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw Internal(errno_text("opening pod namespace " + path + " for crius-pause", errno));
    if (kind == "user") args.user_fd = fd.get();
    else args.ns_fds.push_back(fd.get());
    ns_fds.push_back(std::move(fd));
  }
  args.binary = binary.c_str();
  args.root = root_dir.c_str();
  const std::string target = root_dir + "/" + kName;
  args.target = target.c_str();
  Pipe errors = make_pipe("crius-pause");
  args.error_pipe = errors.write.get();

  const Stack stack, inner_stack;
  args.inner_stack = inner_stack.top();
  const bool userns = args.user_fd >= 0;
  // No signal is taken between clone and the child's exec (see child_main).
  sigset_t all, old_mask;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old_mask);
  const pid_t pid = ::clone(child_main, stack.top(),
                            CRIUS_CLONE_SHARED_VM | (userns ? 0 : CLONE_NEWPID) | CLONE_NEWNS | SIGCHLD, &args);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0) throw Internal(errno_text("starting crius-pause (clone with a new PID namespace)", clone_errno));
  PauseProcess out;
  out.pid_ = pid;
  // The pipe closes on exec (success) or carries the failed step; with a
  // user namespace the pid of crius-pause comes first.
  errors.write.reset();
  auto read_message = [&](int (&msg)[2]) {
    ssize_t got;
    do {
      got = ::read(errors.read.get(), msg, sizeof msg);
    } while (got < 0 && errno == EINTR);
    return got == static_cast<ssize_t>(sizeof msg);
  };
  int msg[2] = {0, 0};
  bool got = read_message(msg);
  if (userns && got && msg[0] == kPidMessage) {
    reap_child(pid, kKillWait);  // the intermediate process, gone once it wrote
    out.pid_ = msg[1];
    got = read_message(msg);
  }
  if (got) throw Internal(errno_text(std::string("starting crius-pause: ") + step_name(msg[0]), msg[1]));
  if (userns && out.pid_ == pid) throw Internal("starting crius-pause: the intermediate process exited without its pid");

  // Pinned so that containers can join it by path.
  pin_namespace("/proc/" + std::to_string(out.pid_) + "/ns/pid", pid_pin, "PID");
  return out;
}

PauseProcess::~PauseProcess() {
  if (pid_ > 0) kill_pause(pid_);
}

void kill_pause(pid_t pid) {
  if (pid <= 0) return;
  // Our own child: kill and reap (reap_child takes ECHILD, the pause watch
  // of pause_watch.h reaping it first, as done). After a daemon restart it
  // is not our child; then check it is still crius-pause before killing.
  const pid_t w = ::waitpid(pid, nullptr, WNOHANG);
  if (w == pid) return;  // already dead, now reaped
  if (w == 0) {
    kill_and_reap(pid, false, kKillWait);
    return;
  }
  if (!is_pause(pid)) return;
  ::kill(pid, SIGKILL);
  // Dead once a zombie: reaping it is its new parent's business.
  wait_until([pid] { return !process_running(pid); }, kKillWait);
}

}  // namespace crius::sandbox
