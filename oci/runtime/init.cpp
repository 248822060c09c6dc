#include "oci/runtime/init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "oci/runtime/console.h"
#include "oci/runtime/hooks.h"
#include "oci/runtime/mounts.h"
#include "oci/runtime/process.h"
#include "oci/runtime/rootfs.h"
#include "oci/runtime/sync.h"

namespace crius::oci::runtime {

void set_oom_score_adj(int proc, int value, const WarnFn& warn) {
  Fd fd(::openat(proc, "self/oom_score_adj", O_RDWR | O_CLOEXEC));
  if (!fd) throw_errno("open /proc/self/oom_score_adj");
  std::string v = std::to_string(value);
  if (::write(fd.get(), v.data(), v.size()) >= 0) return;
  int err = errno;
  if (err != EACCES && err != EPERM) throw_errno("write /proc/self/oom_score_adj", err);
  // Lowering the score needs CAP_SYS_RESOURCE; the closest value allowed is
  // the current one.
  char buf[32] = {};
  ::lseek(fd.get(), 0, SEEK_SET);
  (void)!::read(fd.get(), buf, sizeof buf - 1);
  std::string cur(buf);
  while (!cur.empty() && cur.back() == '\n') cur.pop_back();
  warn("oomScoreAdj " + v + " refused by the kernel (" + std::strerror(err) + "), keeping " + cur);
}

void set_rlimits(const std::vector<ResolvedRlimit>& rlimits, const WarnFn& warn) {
  for (const auto& r : rlimits) {
    struct rlimit lim {r.soft, r.hard};
    if (::setrlimit(r.resource, &lim) == 0) continue;
    int err = errno;
    if (err != EPERM) throw_errno("setrlimit " + r.name, err);
    // Raising a hard limit needs CAP_SYS_RESOURCE: clamp to the current one.
    struct rlimit cur {};
    ::getrlimit(r.resource, &cur);
    lim.rlim_max = std::min<rlim_t>(lim.rlim_max, cur.rlim_max);
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_cur, lim.rlim_max);
    if (::setrlimit(r.resource, &lim) != 0) throw_errno("setrlimit " + r.name);
    warn("rlimit " + r.name + " hard " + std::to_string(r.hard) + " refused by the kernel (" + std::strerror(err) +
         "), clamped to " + std::to_string(lim.rlim_max));
  }
}

void set_apparmor_exec(const std::string& profile) {
  std::string cmd = "exec " + profile;
  Fd fd(::open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC));
  if (!fd) fd.reset(::open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC));  // kernels before 5.8
  if (!fd) throw_errno("apparmor: open /proc/self/attr/apparmor/exec");
  if (::write(fd.get(), cmd.data(), cmd.size()) < 0) throw_errno("apparmor: set profile " + profile);
}

void switch_user(const User& u) {
  std::vector<gid_t> groups(u.additional_gids.begin(), u.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0) {
    // A user namespace whose maker denied setgroups (unshare --map-root-user
    // does) keeps the groups it has; that is fine when no other is asked for.
    const int err = errno;
    const bool denied = err == EPERM && read_file_if_exists("/proc/self/setgroups").value_or("").starts_with("deny");
    const bool only_own = std::all_of(groups.begin(), groups.end(), [&](gid_t g) { return g == u.gid; });
    if (!denied) throw_errno("setgroups", err);
    if (!only_own)
      throw FailedPrecondition("process.user.additionalGids: setgroups is denied in the user namespace the runtime "
                               "runs in (/proc/self/setgroups), so supplementary groups cannot be set");
  }
  if (::setresgid(u.gid, u.gid, u.gid) != 0) throw_errno("setresgid(" + std::to_string(u.gid) + ")");
  if (::setresuid(u.uid, u.uid, u.uid) != 0) throw_errno("setresuid(" + std::to_string(u.uid) + ")");
}

namespace {

// A runtime that lives on (the pod's monitor runs the builtin in process)
// hands its init every fd it has open: its listening socket, the pipes of
// other containers. They close at exec (all are CLOEXEC), but a created
// container waits for its start before exec, maybe for long, and would keep
// the monitor's socket answering after the monitor died and another
// container's pipe from ever reaching EOF. Only what the init uses stays.
void close_inherited(const InitConfig& c) {
  std::vector<int> keep = {c.sync_fd, c.fifo_fd, c.console_fd, log::output_fd()};
  for (const auto& j : c.ns->joins) keep.push_back(j.fd.get());
  if (c.mount_fds) keep.insert(keep.end(), c.mount_fds->begin(), c.mount_fds->end());
  for (int fd = 3; fd < 3 + c.preserve_fds; ++fd) keep.push_back(fd);
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned>(fd) > next) ::syscall(SYS_close_range, next, static_cast<unsigned>(fd) - 1, 0U);
    next = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, next, ~0U, 0U);
}

struct Init {
  InitConfig& c;
  bool ready = false;  // the runtime has returned from create

  void warn(const std::string& msg) {
    if (!ready && sync::send(c.sync_fd, sync::kWarning, msg)) return;
    log::warn(msg);
  }

  void check(int err, const std::string& what) {
    if (err) throw_errno(what, err);
  }

  void wait_go(std::string* payload = nullptr) {
    sync::Type t;
    std::string p;
    if (!sync::receive(c.sync_fd, t, p) || t != sync::kGo) ::_exit(1);  // the runtime gave up
    if (payload) *payload = p;
  }

  void set_oom_score_adj(int proc, int value) {
    runtime::set_oom_score_adj(proc, value, [this](const std::string& m) { warn(m); });
  }
  void set_rlimits() {
    runtime::set_rlimits(c.rlimits, [this](const std::string& m) { warn(m); });
  }

  [[noreturn]] void run() {
    const Spec& s = *c.spec;
    const Process& p = *s.process;
    const NamespacePlan& ns = *c.ns;
    // Until exec, /proc/<pid> of this process (its exe, its fds) stays
    // root-owned and closed to ptrace from inside the container.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_DUMPABLE)");
    for (int i = 0; i < 3; ++i)
      if (c.stdio[i] >= 0 && c.stdio[i] != i && ::dup2(c.stdio[i], i) < 0) throw_errno("dup2 stdio " + std::to_string(i));
    close_inherited(c);

    if (c.wait_for_go) wait_go();  // pid known, uid_map and gid_map written
    // New or joined: become the namespace's root (the host's root is not
    // mapped there, so files made as it would be overflow-owned).
    if (ns.has(CLONE_NEWUSER)) {
      (void)!::setresgid(0, 0, 0);
      (void)!::setresuid(0, 0, 0);
    }
    for (const auto& j : ns.joins) {
      if (j.flag == CLONE_NEWUSER || j.flag == CLONE_NEWPID) continue;  // joined before the clone
      if (::setns(j.fd.get(), j.flag) != 0) throw_errno("setns " + j.path);
    }
    // Without a mount namespace of its own (none in the spec: the caller's is
    // shared, as runc and crun do) the rootfs is entered by chroot, since
    // pivot_root would move the root of every process sharing it. A joined
    // one is set up like a new one (runc does the same).
    const bool shared_mnt = !ns.has(CLONE_NEWNS);

    // A keyring of its own, so that keys of the caller's session do not
    // leak into the container. Kernels without keys support are fine.
    if (!c.session_keyring.empty() &&
        ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c.session_keyring.c_str()) < 0 && errno != ENOSYS)
      throw_errno("keyctl(KEYCTL_JOIN_SESSION_KEYRING)");

    Fd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!proc) throw_errno("open /proc");
    // After joining a user namespace it was set by the intermediate process (create.cpp).
    bool joined_user = false;
    for (const auto& j : ns.joins) joined_user |= j.flag == CLONE_NEWUSER;
    if (p.oom_score_adj && !joined_user) set_oom_score_adj(proc.get(), *p.oom_score_adj);

    log::debug("init: preparing rootfs");
    Fd root = prepare_rootfs(s, c.rootfs, c.bundle, ns.has(CLONE_NEWUSER) || c.in_user_namespace, shared_mnt, c.mount_fds);
    if (!s.hostname.empty() && ::sethostname(s.hostname.data(), s.hostname.size()) != 0)
      throw_errno("sethostname " + s.hostname);
    if (!s.domainname.empty() && ::setdomainname(s.domainname.data(), s.domainname.size()) != 0)
      throw_errno("setdomainname " + s.domainname);

    std::string state_json;
    if (c.hook_round) {
      sync::send(c.sync_fd, sync::kHooks);
      wait_go(&state_json);
      run_hooks(s.hooks.create_container, "createContainer", state_json);
    }

    log::debug("init: pivot_root");
    if (shared_mnt) chroot_into(root.get());
    else pivot_into(root.get());
    log::debug("init: pivoted");
    root.reset();
    // The rootfs bind was made under a private parent (pivot_root needs
    // that); the new "/" gets the propagation the spec asks for now.
    if (!shared_mnt && s.linux_ && !s.linux_->rootfs_propagation.empty() &&
        ::mount("", "/", nullptr, propagation_flag(s.linux_->rootfs_propagation), nullptr) != 0)
      throw_errno("rootfs: set propagation " + s.linux_->rootfs_propagation + " on /");
    if (s.linux_) {
      for (const auto& [k, v] : s.linux_->sysctl) {
        try {
          write_file(sysctl_path(k), v);
        } catch (const Error& e) {
          throw InvalidArgument("sysctl " + k + "=" + v + ": " + e.what());
        }
      }
    }
    if (s.root.readonly) remount_root_readonly();
    if (s.linux_) {
      mask_paths(s.linux_->masked_paths);
      readonly_paths(s.linux_->readonly_paths);
    }

    if (c.console_fd >= 0) {
      std::string what;
      check(setup_console(c.console_fd, p.console_size, p.user.uid, what), "terminal: " + what);
      ::close(c.console_fd);
      c.console_fd = -1;
    } else {
      (void)::setsid();
    }
    set_rlimits();
    if (!p.apparmor_profile.empty()) set_apparmor_exec(p.apparmor_profile);
    ::umask(p.user.umask.value_or(022));

    std::vector<std::string> env = p.env;
    if (!env_get(env, "HOME")) env.push_back("HOME=" + home_of(p.user.uid));
    const std::string exe = find_executable(p.args[0], env);
    if (exe.empty()) throw NotFound("exec: \"" + p.args[0] + "\": executable file not found in $PATH");

    // A filter with SCMP_ACT_NOTIFY is loaded while the runtime still
    // listens: the runtime hands its listener fd to listenerPath. What
    // follows (start, user switch, exec) then runs under the filter.
    bool seccomp_loaded = false;
    if (c.seccomp && c.seccomp->notify()) {
      check(c.seccomp->load(), "seccomp: load filter");
      seccomp_loaded = true;
      const int listener = c.seccomp->notify_fd();
      if (listener < 0) throw Internal("seccomp: the filter has SCMP_ACT_NOTIFY rules but no listener fd");
      if (!sync::send(c.sync_fd, sync::kSeccomp, "", listener)) throw_errno("seccomp: send the listener fd to the runtime");
      wait_go();
    }

    // create returns now; start opens the fifo's other end.
    sync::send(c.sync_fd, sync::kReady);
    ready = true;
    ::close(c.sync_fd);
    c.sync_fd = -1;
    if (c.fifo_fd >= 0) {
      std::string self_fd = "self/fd/" + std::to_string(c.fifo_fd);
      Fd w(::openat(proc.get(), self_fd.c_str(), O_WRONLY | O_CLOEXEC));
      if (!w) throw_errno("open exec fifo");
      if (::write(w.get(), "0", 1) != 1) throw_errno("write exec fifo");
    }
    if (c.fifo_fd >= 0) ::close(c.fifo_fd);
    proc.reset();

    if (!s.hooks.start_container.empty()) {
      // As runc: the state still says created while these run.
      auto j = nlohmann::ordered_json::parse(state_json, nullptr, false);
      if (!j.is_discarded()) j["status"] = "created";
      run_hooks(s.hooks.start_container, "startContainer", j.dump());
    }

    log::debug("init: started");
    if (c.has_caps) {
      std::string what;
      check(drop_bounding(c.caps, c.last_cap, what), what);
    }
    if (c.seccomp && !seccomp_loaded && !p.no_new_privileges) check(c.seccomp->load(), "seccomp: load filter");
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
    switch_user(p.user);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
    if (::chdir(p.cwd.c_str()) != 0) throw_errno("chdir to cwd " + p.cwd);
    if (c.has_caps) {
      std::string what;
      check(apply_capsets(c.caps, c.last_cap, what), what);
    }
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");

    // Only stdio and the preserved fds reach the process.
    exec_user_process(exe, p.args, env, 3 + static_cast<unsigned>(c.preserve_fds),
                      p.no_new_privileges && !seccomp_loaded ? c.seccomp : nullptr);
  }
};

}  // namespace

void exec_user_process(const std::string& exe, const std::vector<std::string>& args,
                       const std::vector<std::string>& env, unsigned first_closed, SeccompFilter* seccomp) {
  if (::syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC) != 0) throw_errno("close_range");
  for (int fd = 3; fd < static_cast<int>(first_closed); ++fd) ::fcntl(fd, F_SETFD, 0);
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  // Last: a filter under no_new_privs may forbid anything but execve.
  if (seccomp)
    if (int err = seccomp->load()) throw_errno("seccomp: load filter", err);
  ::execve(exe.c_str(), argv.data(), envp.data());
  throw_errno("exec " + exe);
}

void init_main(InitConfig& c) {
  Init init{c};
  std::string msg;
  try {
    init.run();
  } catch (const std::exception& e) {
    msg = e.what();
  } catch (...) {
    msg = "container init failed";
  }
  if (!init.ready && c.sync_fd >= 0 && sync::send(c.sync_fd, sync::kError, msg)) ::_exit(1);
  log::error(msg);
  if (!log::to_stderr()) {
    // The last word of a process about to exit: if stderr is gone too,
    // there is nowhere left to report that.
    std::string line = msg + "\n";
    (void)write_all(STDERR_FILENO, line.data(), line.size());
  }
  ::_exit(127);
}

}  // namespace crius::oci::runtime
