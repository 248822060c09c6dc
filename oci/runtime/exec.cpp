// exec_process: a new process in a running container, cloned from the
// caller. A first child (the "joiner") moves into the init's cgroups, then
// into each of its namespaces, and clones the final process with
// CLONE_PARENT, so that the final process is inside the container's pid
// namespace and yet a child of the caller. The final process applies the
// process object and execs; the caller learns of every failure over a
// SOCK_SEQPACKET socket that exec closes (CLOEXEC) on success.
#include "oci/runtime/exec.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/proc_cgroup.h"
#include "base/proc_stat.h"
#include "base/strings.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/cgroups/join.h"
#include "oci/runtime/apparmor.h"
#include "oci/runtime/caps.h"
#include "oci/runtime/console.h"
#include "oci/runtime/init.h"
#include "oci/runtime/process.h"
#include "oci/runtime/seccomp.h"
#include "oci/runtime/seccomp_notify.h"
#include "oci/runtime/sync.h"

namespace crius::oci::runtime {
namespace {

// setns order: user first (it owns the others, and joining it gives the
// capabilities to join them), mnt last (the /proc paths stop being the
// host's after it).
struct NsKind {
  int flag;
  const char* name;
};
constexpr NsKind kNsOrder[] = {{CLONE_NEWUSER, "user"}, {CLONE_NEWIPC, "ipc"},       {CLONE_NEWUTS, "uts"},
                               {CLONE_NEWNET, "net"},   {CLONE_NEWPID, "pid"},       {CLONE_NEWCGROUP, "cgroup"},
                               {CLONE_NEWTIME, "time"}, {CLONE_NEWNS, "mnt"}};

struct NsJoin {
  int flag;
  std::string path;
  Fd fd;
};

// The init's namespaces that differ from the caller's (joining one's own
// user namespace is an error, and joining one's own mount namespace would
// move the root).
std::vector<NsJoin> open_init_namespaces(pid_t init) {
  std::vector<NsJoin> out;
  for (const auto& k : kNsOrder) {
    const std::string path = "/proc/" + std::to_string(init) + "/ns/" + k.name;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT && k.flag == CLONE_NEWTIME) continue;  // kernel without time namespaces
      throw_errno("exec: open namespace " + path);
    }
    struct stat theirs, mine;
    if (::fstat(fd.get(), &theirs) != 0) throw_errno("exec: stat " + path);
    const std::string self = std::string("/proc/self/ns/") + k.name;
    if (::stat(self.c_str(), &mine) == 0 && mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev) continue;
    out.push_back({k.flag, path, std::move(fd)});
  }
  return out;
}

struct CgroupMount {
  bool v2 = false;
  std::set<std::string> options;  // v1: controllers and name=…
  std::string root, point;
};

std::vector<CgroupMount> cgroup_mounts() {
  std::vector<CgroupMount> out;
  for (const auto& mi : read_mountinfo()) {
    if (mi.fs_type != "cgroup" && mi.fs_type != "cgroup2") continue;
    CgroupMount m;
    m.v2 = mi.fs_type == "cgroup2";
    m.root = mi.root;
    m.point = mi.mount_point;
    for (auto& o : split(mi.super_options, ',')) m.options.insert(std::move(o));
    out.push_back(std::move(m));
  }
  return out;
}

// The directories of the init's cgroups that the caller is not in already,
// one per hierarchy (v1 and v2). Hierarchies not mounted here are skipped:
// nothing could be written for them.
struct SubCgroup {
  std::set<std::string> controllers;  // empty: every hierarchy
  std::string path;                   // relative, cleaned
};

std::vector<SubCgroup> parse_sub_cgroups(const std::vector<std::string>& specs) {
  std::vector<SubCgroup> out;
  for (const auto& spec : specs) {
    SubCgroup sc;
    std::string path = spec;
    if (auto colon = spec.find(':'); colon != std::string::npos) {
      for (auto& c : split(spec.substr(0, colon), ','))
        if (!c.empty()) sc.controllers.insert(std::move(c));
      if (sc.controllers.empty()) throw InvalidArgument("exec --cgroup " + spec + ": no controller before ':'");
      path = spec.substr(colon + 1);
    }
    // Inside the container's cgroup only: no "..", leading "/" ignored.
    for (const auto& comp : split(path, '/')) {
      if (comp.empty() || comp == ".") continue;
      if (comp == "..") throw InvalidArgument("exec --cgroup " + spec + ": must stay inside the container's cgroup");
      sc.path += (sc.path.empty() ? "" : "/") + comp;
    }
    out.push_back(std::move(sc));
  }
  return out;
}

// The sub-cgroup path for a hierarchy with these controllers ("" for v2):
// a controller-specific entry first, then a plain one.
std::string sub_cgroup_for(const std::vector<SubCgroup>& subs, const std::vector<std::string>& ctrls) {
  for (const auto& sc : subs)
    for (const auto& c : sc.controllers)
      if (std::find(ctrls.begin(), ctrls.end(), c) != ctrls.end()) return sc.path;
  for (const auto& sc : subs)
    if (sc.controllers.empty()) return sc.path;
  return "";
}

struct CgroupsToJoin {
  std::vector<std::string> v1;  // joined by the joiner's thread (join.h)
  std::string v2;               // the joiner is born there
};

CgroupsToJoin cgroups_to_join(pid_t init, const std::vector<SubCgroup>& subs) {
  const auto theirs = read_proc_cgroup(std::to_string(init));
  std::set<std::string> same;
  for (const auto& c : read_proc_cgroup()) same.insert(c.line);
  std::vector<CgroupMount> mounts;
  CgroupsToJoin out;
  for (const auto& c : theirs) {
    const std::string& l = c.line;
    const bool v2 = c.hierarchy_id == "0" && c.controllers.empty();
    const std::string sub = sub_cgroup_for(subs, c.controllers);
    if (sub.empty() && same.count(l)) continue;
    const std::string& base = c.path;
    const std::string path = sub.empty() ? base : base + (base.back() == '/' ? "" : "/") + sub;
    if (mounts.empty()) mounts = cgroup_mounts();
    const CgroupMount* found = nullptr;
    for (const auto& m : mounts) {
      if (!path.starts_with(m.root)) continue;
      if (v2) {
        if (m.v2) found = &m;
      } else if (!m.v2) {
        bool all = true;
        for (const auto& ctrl : c.controllers) all = all && m.options.count(ctrl);
        if (all) found = &m;
      }
      if (found) break;
    }
    if (!found) {
      log::debug("exec: cgroup hierarchy \"" + l + "\" of the init is not mounted here, not joined");
      continue;
    }
    auto dir_of = [&](const std::string& p) {
      std::string rel = found->root == "/" ? p : p.substr(found->root.size());
      return found->point + rel + (rel.empty() || rel.back() != '/' ? "/" : "");
    };
    std::string dir = dir_of(path);
    struct stat st;
    if (!sub.empty() && (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
      // On a hybrid host the controller-less v2 tree is secondary: the
      // container's own cgroup there is enough.
      if (!v2 || cgroups::Hierarchy::host().v2_only())
        throw NotFound("exec --cgroup: cgroup " + dir + " does not exist");
      if (same.count(l)) continue;
      dir = dir_of(base);
    }
    if (v2)
      out.v2 = dir;
    else
      out.v1.push_back(dir);
  }
  return out;
}

// Everything the forked processes need, prepared by the caller so that the
// children only apply it.
struct ExecPlan {
  const Process* p = nullptr;
  std::vector<NsJoin> joins;
  bool joins_user = false;
  std::vector<std::string> cgroup_v1_dirs;
  int sync_fd = -1;
  int console_fd = -1;
  int preserve_fds = 0;
  int stdio[3] = {-1, -1, -1};
  bool has_caps = false;
  CapSets caps;
  int last_cap = 40;
  SeccompFilter* seccomp = nullptr;
  std::vector<ResolvedRlimit> rlimits;
  std::optional<int> oom_score_adj;
  std::string apparmor;
  bool no_new_privs = false;
};

// The error goes to the caller as "<ErrorCode number>:<message>", so that
// a missing executable stays NotFound there.
[[noreturn]] void fail_child(int sync_fd, const std::exception& e, int status) {
  auto* err = dynamic_cast<const Error*>(&e);
  const ErrorCode code = err ? err->code() : ErrorCode::internal;
  sync::send(sync_fd, sync::kError, std::to_string(static_cast<int>(code)) + ":" + e.what());
  ::_exit(status);
}

// The final process, inside every namespace of the container.
[[noreturn]] void final_main(ExecPlan& x) {
  try {
    const Process& p = *x.p;
    const unsigned first_closed = 3 + static_cast<unsigned>(x.preserve_fds);
    // Our own fds must not sit among the preserved ones.
    auto move_up = [&](int& fd) {
      if (fd < 0 || fd >= static_cast<int>(first_closed)) return;
      int n = ::fcntl(fd, F_DUPFD_CLOEXEC, static_cast<int>(first_closed));
      if (n < 0) throw_errno("exec: fcntl(F_DUPFD_CLOEXEC)");
      fd = n;
    };
    move_up(x.sync_fd);
    move_up(x.console_fd);
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_DUMPABLE)");
    for (int i = 0; i < 3; ++i)
      if (x.stdio[i] >= 0 && x.stdio[i] != i && ::dup2(x.stdio[i], i) < 0) throw_errno("dup2 stdio " + std::to_string(i));
    if (x.joins_user) {
      (void)!::setresgid(0, 0, 0);
      (void)!::setresuid(0, 0, 0);
    }
    auto warn = [&](const std::string& m) { sync::send(x.sync_fd, sync::kWarning, m); };
    Fd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!proc) throw_errno("open /proc");
    if (x.oom_score_adj && !x.joins_user) set_oom_score_adj(proc.get(), *x.oom_score_adj, warn);
    proc.reset();
    if (x.console_fd >= 0) {
      std::string what;
      if (int err = setup_console(x.console_fd, p.console_size, p.user.uid, what)) throw_errno("terminal: " + what, err);
      ::close(x.console_fd);
    } else {
      (void)::setsid();
    }
    set_rlimits(x.rlimits, warn);
    if (!x.apparmor.empty()) set_apparmor_exec(x.apparmor);
    ::umask(p.user.umask.value_or(022));

    std::vector<std::string> env = p.env;
    if (!env_get(env, "HOME")) env.push_back("HOME=" + home_of(p.user.uid));
    const std::string exe = find_executable(p.args[0], env);
    if (exe.empty()) throw NotFound("exec: \"" + p.args[0] + "\": executable file not found in $PATH");

    if (x.has_caps) {
      std::string what;
      if (int err = drop_bounding(x.caps, x.last_cap, what)) throw_errno(what, err);
    }
    // A notify filter goes first, while the caller still listens for its fd
    // (it hands it to listenerPath and answers kGo).
    bool seccomp_loaded = false;
    if (x.seccomp && x.seccomp->notify()) {
      if (int err = x.seccomp->load()) throw_errno("seccomp: load filter", err);
      seccomp_loaded = true;
      const int listener = x.seccomp->notify_fd();
      if (listener < 0) throw Internal("seccomp: the filter has SCMP_ACT_NOTIFY rules but no listener fd");
      if (!sync::send(x.sync_fd, sync::kSeccomp, "", listener)) throw_errno("seccomp: send the listener fd");
      sync::Type t;
      std::string payload;
      if (!sync::receive(x.sync_fd, t, payload) || t != sync::kGo) ::_exit(1);  // the caller gave up
    }
    if (x.seccomp && !seccomp_loaded && !x.no_new_privs)
      if (int err = x.seccomp->load()) throw_errno("seccomp: load filter", err);
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
    switch_user(p.user);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
    if (::chdir(p.cwd.c_str()) != 0) throw_errno("chdir to cwd " + p.cwd);
    if (x.has_caps) {
      std::string what;
      if (int err = apply_capsets(x.caps, x.last_cap, what)) throw_errno(what, err);
    }
    if (x.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");

    exec_user_process(exe, p.args, env, first_closed, x.no_new_privs && !seccomp_loaded ? x.seccomp : nullptr);
  } catch (const std::exception& e) {
    fail_child(x.sync_fd, e, 127);
  } catch (...) {
    fail_child(x.sync_fd, Internal("exec: setup failed"), 127);
  }
}

// The joiner: cgroups, namespaces, then the final process as a sibling.
[[noreturn]] void joiner_main(ExecPlan& x) {
  try {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_DUMPABLE)");
    // Before the namespaces: the host's cgroupfs is only visible from here.
    for (const auto& d : x.cgroup_v1_dirs) cgroups::move_thread(d);
    // Before the namespaces too, inherited by the process: in the container's
    // user namespace its /proc/self/oom_score_adj is the host root's.
    if (x.oom_score_adj && x.joins_user) {
      Fd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!proc) throw_errno("exec: open /proc");
      set_oom_score_adj(proc.get(), *x.oom_score_adj, [&](const std::string& m) { sync::send(x.sync_fd, sync::kWarning, m); });
    }
    for (const auto& j : x.joins)
      if (::setns(j.fd.get(), j.flag) != 0) throw_errno("exec: setns " + j.path);
    // CLONE_PARENT: the caller, not this process, is the parent and waits.
    pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0));
    if (pid < 0) throw_errno("exec: clone into the container's pid namespace");
    if (pid == 0) final_main(x);
    sync::send(x.sync_fd, sync::kPid, std::to_string(pid));
    ::_exit(0);
  } catch (const std::exception& e) {
    fail_child(x.sync_fd, e, 1);
  }
}

}  // namespace

pid_t exec_process(const Container& c, const Process& process, const ExecOptions& opts) {
  const State st = c.state();
  const std::string& id = st.id;
  if (st.status == Status::stopped) throw FailedPrecondition("exec " + id + ": the container is stopped");
  if (st.status == Status::paused && !opts.ignore_paused) throw FailedPrecondition("exec " + id + ": the container is paused");
  if (st.status == Status::creating) throw FailedPrecondition("exec " + id + ": the container is still being created");
  if (process.args.empty()) throw InvalidArgument("exec " + id + ": process.args must not be empty");
  Process p = process;
  if (p.cwd.empty()) p.cwd = "/";
  if (p.cwd[0] != '/') throw InvalidArgument("exec " + id + ": process.cwd \"" + p.cwd + "\" must be absolute");
  const bool has_console = !opts.console_socket.empty() || opts.console_fd >= 0;
  if (p.terminal && !has_console) throw InvalidArgument("exec " + id + ": process.terminal is true but no console socket was given");
  if (!p.terminal && has_console) throw InvalidArgument("exec " + id + ": a console socket was given but process.terminal is false");

  // The container's settings fill what the process object leaves out, as
  // runc does: capabilities, rlimits, AppArmor, oomScoreAdj, no_new_privs.
  const Spec spec = parse_spec(st.config);
  const Process* cp = spec.process ? &*spec.process : nullptr;
  ExecPlan x;
  x.p = &p;
  x.last_cap = kernel_last_cap();
  const std::optional<Capabilities>& caps = p.capabilities ? p.capabilities : (cp ? cp->capabilities : std::nullopt);
  if (caps) {
    std::vector<std::string> ignored;
    x.caps = capsets_from_spec(*caps, x.last_cap, ignored);
    x.has_caps = true;
    for (const auto& n : ignored) log::warn("ignoring unknown or unsupported capability \"" + n + "\"");
  }
  for (const auto& r : (p.rlimits.empty() && cp ? cp->rlimits : p.rlimits))
    x.rlimits.push_back({rlimit_resource(r.type), r.type, r.soft, r.hard});
  x.oom_score_adj = p.oom_score_adj ? p.oom_score_adj : (cp ? cp->oom_score_adj : std::nullopt);
  x.apparmor = !p.apparmor_profile.empty() ? p.apparmor_profile : (cp ? cp->apparmor_profile : "");
  x.no_new_privs = p.no_new_privileges || (cp && cp->no_new_privileges);
  if (!x.apparmor.empty() && !apparmor_enabled())
    throw FailedPrecondition("exec " + id + ": apparmorProfile \"" + x.apparmor +
                             "\" requested but AppArmor is not enabled on this host");
  if (!p.selinux_label.empty()) log::warn("SELinux labels are not supported by crius-runtime yet; selinuxLabel ignored");
  std::unique_ptr<SeccompFilter> seccomp;
  if (spec.linux_ && spec.linux_->seccomp) {
    std::vector<std::string> skipped;
    seccomp = SeccompFilter::build(*spec.linux_->seccomp, skipped);
    x.seccomp = seccomp.get();
  }

  x.joins = open_init_namespaces(st.pid);
  for (const auto& j : x.joins) x.joins_user |= j.flag == CLONE_NEWUSER;
  // The fds are the init's and not a later process's that reused its pid.
  if (st.start_time && process_start_time(st.pid) != st.start_time)
    throw FailedPrecondition("exec " + id + ": the container's init is gone");
  const auto subs = parse_sub_cgroups(opts.sub_cgroups);
  if (cgroups::Hierarchy::host().v2_only())
    for (const auto& sc : subs)
      if (!sc.controllers.empty())
        throw InvalidArgument("exec --cgroup: a controller-specific path needs cgroup v1 (this host is v2 only)");
  CgroupsToJoin cgs = cgroups_to_join(st.pid, subs);
  x.cgroup_v1_dirs = std::move(cgs.v1);
  const Fd v2 = cgs.v2.empty() ? Fd() : cgroups::open_v2_dir(cgs.v2);

  Fd console;
  if (!opts.console_socket.empty()) {
    console = connect_console_socket(opts.console_socket);
    x.console_fd = console.get();
  } else if (opts.console_fd >= 0) {
    x.console_fd = opts.console_fd;
  }
  x.preserve_fds = opts.preserve_fds;
  for (int i = 0; i < 3; ++i) x.stdio[i] = opts.stdio[i];
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("exec: socketpair");
  Fd mine(sv[0]), theirs(sv[1]);
  x.sync_fd = theirs.get();

  const pid_t joiner = cgroups::clone_into(0, v2.get());
  if (joiner < 0) throw_errno("exec: fork");
  if (joiner == 0) {
    ::close(mine.get());
    joiner_main(x);
  }
  theirs.reset();
  console.reset();

  pid_t pid = 0;
  std::string error;
  ErrorCode code = ErrorCode::internal;
  Fd listener;  // the process's seccomp listener fd, until its pid is known
  for (;;) {
    sync::Type t;
    std::string payload;
    int passed = -1;
    if (!sync::receive(mine.get(), t, payload, &passed)) break;  // EOF: exec'd, or both gone
    Fd passed_fd(passed);
    if (t == sync::kSeccomp && passed_fd) listener = std::move(passed_fd);
    if (t == sync::kPid) {
      pid = static_cast<pid_t>(std::stol(payload));
    } else if (t == sync::kWarning) {
      log::warn(payload);
    } else if (t == sync::kError) {
      auto colon = payload.find(':');
      error = payload.substr(colon == std::string::npos ? 0 : colon + 1);
      if (colon != std::string::npos && colon > 0 && colon < 3) code = static_cast<ErrorCode>(std::stoi(payload.substr(0, colon)));
    }
    if (listener && pid > 0 && error.empty()) {
      try {
        send_to_seccomp_listener(*spec.linux_->seccomp, listener.get(), pid, st.to_hook_json());
        sync::send(mine.get(), sync::kGo);
      } catch (const Error& e) {
        error = e.what();
        code = e.code();
        sync::send(mine.get(), sync::kAbort);
      }
      listener.reset();
    }
  }
  int status = 0;
  while (::waitpid(joiner, &status, 0) < 0 && errno == EINTR) {
  }
  if (error.empty() && pid <= 0) error = "the process that joins the container's namespaces exited without a pid";
  if (!error.empty()) {
    if (pid > 0) {
      // Our child by CLONE_PARENT: reap it.
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    throw Error(code, "exec " + id + ": " + error);
  }
  if (!opts.pid_file.empty()) write_file_atomic(opts.pid_file, std::to_string(pid), 0644, false);
  return pid;
}

}  // namespace crius::oci::runtime
