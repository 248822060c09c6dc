// The RuntimeDefault seccomp profile: an allowlist with the same effect as
// Docker's and containerd's defaults. Everything not listed fails with EPERM;
// syscalls that need a capability are allowed only when the container has it,
// and clone may not make namespaces without CAP_SYS_ADMIN.
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {
namespace {

using nlohmann::json;

// Safe for any process: no global state, no namespace or module changes, no
// kernel keyring, no raw I/O, no clock setting.
const std::vector<std::string>& always_allowed() {
  static const std::vector<std::string> v = {
      "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset", "chdir",
      "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
      "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
      "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
      "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
      "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
      "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
      "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
      "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
      "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd",
      "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
      "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
      "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
      "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
      "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
      "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
      "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
      "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
      "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
      "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
      "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
      "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
      "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
      "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
      "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
      "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
      "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
      "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
      "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
      "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
      "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
      "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
      "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
      "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
      "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
      "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
      "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
      "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
      "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
      "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
      "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
      "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
      "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
      "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
      "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
      "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
  };
  return v;
}

// Syscalls that the kernel itself gates on a capability; the profile lets them
// through only when the container holds it.
struct CapRule {
  const char* cap;
  std::vector<std::string> names;
};
const std::vector<CapRule>& cap_rules() {
  static const std::vector<CapRule> v = {
      {"CAP_SYS_ADMIN",
       {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
        "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
        "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
  };
  return v;
}

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;

bool kernel_at_least(int major, int minor) {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

json allow(std::vector<std::string> names) {
  return {{"names", std::move(names)}, {"action", "SCMP_ACT_ALLOW"}};
}

}  // namespace

std::vector<std::string> native_seccomp_arches() {
  utsname u{};
  ::uname(&u);
  const std::string m = u.machine;
  if (m == "x86_64") return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  if (m == "aarch64") return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
  if (m == "ppc64le") return {"SCMP_ARCH_PPC64LE"};
  if (m == "s390x") return {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"};
  if (m == "riscv64") return {"SCMP_ARCH_RISCV64"};
  if (m.size() == 4 && m[0] == 'i' && m.substr(2) == "86") return {"SCMP_ARCH_X86"};
  return {};
}

json default_seccomp(const std::vector<std::string>& caps) {
  auto has = [&](const std::string& c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
  utsname u{};
  ::uname(&u);
  const std::string machine = u.machine;
  const bool x86 = machine == "x86_64" || (machine.size() == 4 && machine[0] == 'i' && machine.substr(2) == "86");
  const bool s390 = machine == "s390x";

  json syscalls = json::array();
  syscalls.push_back(allow(always_allowed()));

  // Since 4.8 ptrace can no longer be used to bypass seccomp, so tracing a
  // process of one's own is harmless.
  if (kernel_at_least(4, 8)) syscalls.push_back(allow({"process_vm_readv", "process_vm_writev", "ptrace"}));

  // personality, but only the personas that change nothing dangerous.
  for (uint64_t persona : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull})
    syscalls.push_back({{"names", {"personality"}},
                        {"action", "SCMP_ACT_ALLOW"},
                        {"args", {{{"index", 0}, {"value", persona}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}}}});

  // Any socket family but AF_VSOCK (40), which reaches the host or other VMs.
  syscalls.push_back({{"names", {"socket"}},
                      {"action", "SCMP_ACT_ALLOW"},
                      {"args", {{{"index", 0}, {"value", 40}, {"valueTwo", 0}, {"op", "SCMP_CMP_NE"}}}}});

  if (x86) syscalls.push_back(allow({"arch_prctl", "modify_ldt"}));
  if (machine == "aarch64")
    syscalls.push_back(allow({"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                              "cacheflush", "set_tls"}));
  if (s390) syscalls.push_back(allow({"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}));
  if (machine == "riscv64") syscalls.push_back(allow({"riscv_flush_icache"}));

  std::vector<std::string> granted;
  for (const auto& r : cap_rules())
    if (has(r.cap))
      for (const auto& n : r.names)
        if (std::find(granted.begin(), granted.end(), n) == granted.end()) granted.push_back(n);
  if (!granted.empty()) syscalls.push_back(allow(granted));

  if (!has("CAP_SYS_ADMIN")) {
    // clone without namespace flags (its flags are the second argument on s390).
    syscalls.push_back({{"names", {"clone"}},
                        {"action", "SCMP_ACT_ALLOW"},
                        {"args",
                         {{{"index", s390 ? 1 : 0},
                           {"value", kCloneNamespaceFlags},
                           {"valueTwo", 0},
                           {"op", "SCMP_CMP_MASKED_EQ"}}}}});
    // clone3 passes its flags in memory the filter cannot read: make libc
    // fall back to clone, where they are checked.
    syscalls.push_back({{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}});
  }

  return {{"defaultAction", "SCMP_ACT_ERRNO"},
          {"defaultErrnoRet", EPERM},
          {"architectures", native_seccomp_arches()},
          {"syscalls", syscalls}};
}

}  // namespace crius::oci::cri::detail
