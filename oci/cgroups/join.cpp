#include "oci/cgroups/join.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/error.h"
#include "oci/cgroups/cgroup.h"

namespace crius::oci::cgroups {
namespace {

pid_t raw_clone(unsigned long flags) {
  return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

// Known once a clone3 has answered; a kernel does not gain or lose it.
std::atomic<bool> no_clone3{false};

struct clone_args args_into(unsigned long flags, int cgroup_fd) {
  struct clone_args a;
  std::memset(&a, 0, sizeof a);
  a.flags = flags | CLONE_INTO_CGROUP;
  a.exit_signal = SIGCHLD;
  a.cgroup = static_cast<__u64>(cgroup_fd);
  return a;
}

}  // namespace

// clone3 with a stack of the child's own: the child returns from the system
// call on that stack, where no C frame of ours exists, so it is started here
// in assembly: fn(arg), then exit with its result. Returns -errno on failure.
extern "C" long crius_clone3_call(struct clone_args* args, size_t size, int (*fn)(void*), void* arg);
#if defined(__x86_64__)
asm(R"(
  .text
  .globl crius_clone3_call
  .type crius_clone3_call, @function
crius_clone3_call:
  mov %rdx, %r8          # fn and arg where the system call keeps them
  mov %rcx, %r9
  mov $435, %eax         # SYS_clone3
  syscall
  test %rax, %rax
  jnz 1f
  xor %ebp, %ebp         # the child: the outermost frame of its stack
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax          # SYS_exit
  syscall
  hlt
1:
  ret
  .size crius_clone3_call, .-crius_clone3_call
)");
#define CRIUS_HAVE_CLONE3_CALL 1
#elif defined(__aarch64__)
asm(R"(
  .text
  .globl crius_clone3_call
  .type crius_clone3_call, %function
crius_clone3_call:
  mov x9, x2             // fn and arg where the system call keeps them
  mov x10, x3
  mov x8, #435           // SYS_clone3
  svc #0
  cbnz x0, 1f
  mov x29, xzr           // the child: the outermost frame of its stack
  mov x30, xzr
  mov x0, x10
  blr x9
  mov x8, #93            // SYS_exit
  svc #0
  brk #0
1:
  ret
  .size crius_clone3_call, .-crius_clone3_call
)");
#define CRIUS_HAVE_CLONE3_CALL 1
#endif

void move_thread(const std::string& v1_dir) { write_cgroup_file(v1_dir, "tasks", "0"); }

bool is_v2_dir(const std::string& dir) {
  struct statfs s;
  return ::statfs(dir.c_str(), &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

Fd open_v2_dir(const std::string& dir) { return open_fd(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); }

pid_t clone_into(unsigned long flags, int cgroup_fd) {
  if (cgroup_fd < 0) return raw_clone(flags);
  if (!no_clone3.load(std::memory_order_relaxed)) {
    struct clone_args a = args_into(flags, cgroup_fd);
    const long pid = ::syscall(SYS_clone3, &a, sizeof a);
    if (pid >= 0 || errno != ENOSYS) return static_cast<pid_t>(pid);
    no_clone3.store(true, std::memory_order_relaxed);
  }
  const pid_t pid = raw_clone(flags);
  if (pid != 0) return pid;
  // The child, alone in its thread group: no lock of ours to mind.
  const int fd = ::openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, "0", 1) != 1) {
    const int err = errno;
    std::fprintf(stderr, "crius: joining a cgroup through cgroup.procs: %s\n", std::strerror(err));
    ::_exit(125);
  }
  ::close(fd);
  return 0;
}

pid_t clone_vm_into(unsigned long flags, int cgroup_fd, void* stack, size_t stack_size, int (*fn)(void*), void* arg) {
  flags |= CLONE_VM | CLONE_VFORK;
  if (cgroup_fd < 0) return ::clone(fn, static_cast<char*>(stack) + stack_size, static_cast<int>(flags | SIGCHLD), arg);
#ifdef CRIUS_HAVE_CLONE3_CALL
  if (!no_clone3.load(std::memory_order_relaxed)) {
    struct clone_args a = args_into(flags, cgroup_fd);
    a.stack = reinterpret_cast<__u64>(stack);
    a.stack_size = stack_size;
    const long r = crius_clone3_call(&a, sizeof a, fn, arg);
    if (r >= 0) return static_cast<pid_t>(r);
    if (r != -ENOSYS) {
      errno = static_cast<int>(-r);
      return -1;
    }
    no_clone3.store(true, std::memory_order_relaxed);
  }
#endif
  errno = ENOSYS;
  return -1;
}

}  // namespace crius::oci::cgroups
