// Container::create: validate the bundle, prepare every resource, clone the
// init and walk it through its setup over the sync socket.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/proc_stat.h"
#include "base/user_namespace.h"
#include "oci/cgroups/cgroup.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/cgroups/join.h"
#include "oci/cgroups/systemd.h"
#include "oci/runtime/apparmor.h"
#include "oci/runtime/console.h"
#include "oci/runtime/container.h"
#include "oci/runtime/hooks.h"
#include "oci/runtime/idmap.h"
#include "oci/runtime/init.h"
#include "oci/runtime/process.h"
#include "oci/runtime/rootfs.h"
#include "oci/runtime/seccomp_notify.h"
#include "oci/runtime/sync.h"

namespace crius::oci::runtime {
namespace {

std::string real_path(const std::string& p, const std::string& what) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) throw_errno(what + " " + p);
  return buf;
}

// Removes the state dir and kills the init unless released; removes the
// cgroup when create made it.
struct Undo {
  std::string dir;
  pid_t pid = 0;
  bool child = false;
  bool armed = true;
  std::optional<cgroups::Cgroup> cgroup;
  bool cgroup_made = false;
  std::string systemd_unit;  // the container's transient scope, when systemd has one
  std::string shared_rootfs;  // set when the caller's mount namespace is shared
  size_t rootfs_mounts = 0;
  ~Undo() {
    if (!armed) return;
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait_for_exit(pid, 5000);
    }
    if (!shared_rootfs.empty()) {
      try {
        detach_rootfs_bind(shared_rootfs, rootfs_mounts);
      } catch (const std::exception& e) {
        log::error(std::string("create failed and its rootfs bind could not be detached: ") + e.what());
      }
    }
    if (cgroup) {
      try {
        if (!cgroup->pids().empty()) cgroup->kill_all();
        if (!systemd_unit.empty()) cgroups::systemd::stop_unit(systemd_unit);
        if (cgroup_made) cgroup->destroy();
      } catch (const std::exception& e) {
        log::error(std::string("create failed and its cgroup could not be removed: ") + e.what());
      }
    }
    if (!dir.empty()) {
      try {
        remove_all(dir);
      } catch (const std::exception& e) {
        log::error(std::string("create failed and its state directory could not be removed: ") + e.what());
      }
    }
  }
};

void write_time_offsets(const Linux& l) {
  std::string text;
  for (const auto& [clock, off] : l.time_offsets)
    text += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  if (!text.empty()) write_file("/proc/self/timens_offsets", text);
}

// Clones the init, through an intermediate process when a user or pid
// namespace must be joined (setns of those only applies to children) or a
// time namespace created (its offsets are set before anyone enters it).
struct SharedVmArgs {
  InitConfig* ic;
  int parent_sock;
};

int shared_vm_child(void* p) {
  auto* a = static_cast<SharedVmArgs*>(p);
  ::close(a->parent_sock);
  init_main(*a->ic);
}

// posix_spawn's trick: the init borrows the runtime's memory (CLONE_VM) while
// the runtime sleeps until it execs (CLONE_VFORK). Nothing is copied and no
// copy-on-write fault follows, which is most of a clone's cost. Only when the
// runtime has nothing to do before that exec: no id maps to write, no hooks
// to run, no start to wait for. Nothing when this host cannot clone that way
// into the cgroup (join.h): the caller copies then.
std::optional<pid_t> shared_vm_clone(InitConfig& ic, unsigned long flags, int parent_sock, int cgroup_fd) {
  const size_t size = 1 << 20;
  void* stack = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE,
                       -1, 0);
  if (stack == MAP_FAILED) throw_errno("mmap a stack for the container's init");
  SharedVmArgs a{&ic, parent_sock};
  pid_t pid = cgroups::clone_vm_into(flags, cgroup_fd, stack, size, shared_vm_child, &a);
  int err = errno;
  ::munmap(stack, size);
  if (pid < 0 && err == ENOSYS && cgroup_fd >= 0) return std::nullopt;
  if (pid < 0) throw_errno("clone the container's init", err);
  return pid;
}

pid_t spawn(InitConfig& ic, const Spec& spec, NamespacePlan& ns, int parent_sock, bool share_vm, int cgroup_fd) {
  const bool via_intermediate = ns.joins_user_or_pid() || ns.new_time;
  if (!via_intermediate && share_vm)
    if (auto pid = shared_vm_clone(ic, ns.clone_flags, parent_sock, cgroup_fd)) return *pid;
  if (!via_intermediate) {
    pid_t pid = cgroups::clone_into(ns.clone_flags, cgroup_fd);
    if (pid < 0) throw_errno("clone the container's init");
    if (pid == 0) {
      ::close(parent_sock);
      init_main(ic);
    }
    return pid;
  }
  pid_t mid = cgroups::clone_into(0, cgroup_fd);
  if (mid < 0) throw_errno("fork");
  if (mid == 0) {
    ::close(parent_sock);
    std::string err;
    try {
      // Set here, with the host's rights, and inherited: in a joined user
      // namespace the init could not open its /proc/self/oom_score_adj (a
      // non-dumpable process's files are the host root's) nor lower it.
      if (spec.process && spec.process->oom_score_adj) {
        Fd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!proc) throw_errno("open /proc");
        set_oom_score_adj(proc.get(), *spec.process->oom_score_adj, [](const std::string&) {});
      }
      for (const auto& j : ns.joins)
        if ((j.flag == CLONE_NEWUSER || j.flag == CLONE_NEWPID) && ::setns(j.fd.get(), j.flag) != 0)
          throw_errno("setns " + j.path);
      if (ns.new_time) {
        if (::unshare(CLONE_NEWTIME) != 0) throw_errno("unshare(CLONE_NEWTIME)");
        if (spec.linux_) write_time_offsets(*spec.linux_);
      }
      pid_t pid = cgroups::clone_into(ns.clone_flags, -1);
      if (pid < 0) throw_errno("clone the container's init");
      if (pid == 0) init_main(ic);
      sync::send(ic.sync_fd, sync::kPid, std::to_string(pid));
      ::_exit(0);
    } catch (const std::exception& e) {
      err = e.what();
    }
    sync::send(ic.sync_fd, sync::kError, err);
    ::_exit(1);
  }
  sync::Type t;
  std::string payload;
  bool got = sync::receive(parent_sock, t, payload);
  int status;
  while (::waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!got) throw Internal("the intermediate process exited before reporting the init's pid");
  if (t == sync::kError) throw Internal(payload);
  if (t != sync::kPid) throw Internal("unexpected message from the intermediate process");
  return static_cast<pid_t>(std::stol(payload));
}

}  // namespace

Container Container::create(const std::string& root, const std::string& id, const CreateOptions& opts) {
  check_container_id(id);
  mkdir_all(root, 0700);
  const std::string dir = state_dir(root, id);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) throw AlreadyExists("container \"" + id + "\" already exists");
    throw_errno("create state directory " + dir);
  }
  Undo undo;
  undo.dir = dir;

  const std::string bundle = real_path(opts.bundle.empty() ? "." : opts.bundle, "bundle");
  const Spec spec = load_spec(bundle);
  if (!spec.process) throw InvalidArgument("config.json: process is required to create a container");
  const Process& proc = *spec.process;
  if (proc.args.empty()) throw InvalidArgument("config.json: process.args must not be empty");
  const std::string rootfs =
      real_path(spec.root.path[0] == '/' ? spec.root.path : bundle + "/" + spec.root.path, "root.path");
  struct stat st;
  if (::stat(rootfs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw InvalidArgument("root.path " + rootfs + " is not a directory");

  const Linux* lin = spec.linux_ ? &*spec.linux_ : nullptr;
  NamespacePlan ns = plan_namespaces(lin);
  // No mount namespace in the spec: the caller's is shared (init chroots);
  // the rootfs bind it leaves there is detached again by delete.
  const bool shared_mnt = !ns.has(CLONE_NEWNS);
  if (shared_mnt) {
    undo.shared_rootfs = rootfs;
    undo.rootfs_mounts = mounts_at(rootfs);
    // Written before the bind exists, whole or not at all, so that a delete
    // after a crash of this process at any later step still detaches it.
    write_file_atomic(dir + "/" + kSharedRootfsFile, std::to_string(undo.rootfs_mounts) + " " + rootfs, 0600, false);
  }
  if (!spec.hostname.empty() && !ns.is_new(CLONE_NEWUTS))
    throw InvalidArgument("hostname: setting the hostname needs a new uts namespace");
  if (!spec.domainname.empty() && !ns.is_new(CLONE_NEWUTS))
    throw InvalidArgument("domainname: setting the domainname needs a new uts namespace");
  if (ns.is_new(CLONE_NEWUSER) && (!lin || lin->uid_mappings.empty() || lin->gid_mappings.empty()))
    throw InvalidArgument("linux.uidMappings and gidMappings are required with a new user namespace");
  // With a joined one they describe it (runc wants them; "idmap" mounts
  // without maps of their own take them) and are not written.
  if (lin && (!lin->uid_mappings.empty() || !lin->gid_mappings.empty()) && !ns.has(CLONE_NEWUSER))
    throw InvalidArgument("linux.uidMappings need a user namespace");
  if (lin && !lin->time_offsets.empty() && !ns.new_time)
    throw InvalidArgument("linux.timeOffsets need a new time namespace");
  if (lin)
    for (const auto& [k, v] : lin->sysctl) check_sysctl(k, ns);
  if (!proc.apparmor_profile.empty() && !apparmor_enabled())
    throw FailedPrecondition("process.apparmorProfile \"" + proc.apparmor_profile +
                             "\" requested but AppArmor is not enabled on this host");
  const bool has_console = !opts.console_socket.empty() || opts.console_fd >= 0;
  if (proc.terminal && !has_console)
    throw InvalidArgument("process.terminal is true but no --console-socket was given");
  if (!proc.terminal && has_console)
    throw InvalidArgument("--console-socket given but process.terminal is false");

  if (!proc.selinux_label.empty() || (lin && !lin->mount_label.empty()))
    log::warn("SELinux labels are not supported by crius-runtime yet; process.selinuxLabel and linux.mountLabel are ignored");

  InitConfig ic;
  ic.spec = &spec;
  ic.bundle = bundle;
  ic.rootfs = rootfs;
  ic.ns = &ns;
  ic.preserve_fds = opts.preserve_fds;
  for (int i = 0; i < 3; ++i) ic.stdio[i] = opts.stdio[i];
  if (!opts.no_new_keyring) ic.session_keyring = id;
  ic.last_cap = kernel_last_cap();
  if (proc.capabilities) {
    std::vector<std::string> ignored;
    ic.caps = capsets_from_spec(*proc.capabilities, ic.last_cap, ignored);
    ic.has_caps = true;
    for (const auto& n : ignored) log::warn("ignoring unknown or unsupported capability \"" + n + "\"");
  }
  for (const auto& r : proc.rlimits) ic.rlimits.push_back({rlimit_resource(r.type), r.type, r.soft, r.hard});
  std::unique_ptr<SeccompFilter> seccomp;
  if (lin && lin->seccomp) {
    std::vector<std::string> skipped;
    seccomp = SeccompFilter::build(*lin->seccomp, skipped);
    for (const auto& n : skipped) log::debug("seccomp: syscall \"" + n + "\" is unknown to libseccomp, skipped");
    ic.seccomp = seccomp.get();
  }
  // Idmapped binds are made here, in the caller's user namespace (idmap.h).
  std::vector<Fd> trees;
  std::vector<int> tree_fds(spec.mounts.size(), -1);
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    auto req = idmap_request(spec, i);
    if (!req) continue;
    std::string src = spec.mounts[i].source;
    if (!src.empty() && src[0] != '/') src = bundle + "/" + src;
    trees.push_back(make_idmapped_tree(src, *req));
    tree_fds[i] = trees.back().get();
  }
  ic.mount_fds = &tree_fds;

  const std::string fifo = dir + "/exec.fifo";
  Fd fifo_fd;
  if (!opts.start_immediately) {
    if (::mkfifo(fifo.c_str(), 0622) != 0) throw_errno("mkfifo " + fifo);
    // The init opens it as the container's root, which a user namespace maps
    // to another host uid.
    if (::chmod(fifo.c_str(), 0622) != 0) throw_errno("chmod " + fifo);
    if (ns.is_new(CLONE_NEWUSER)) {
      auto host_of = [](const std::vector<IdMapping>& maps) -> int64_t {
        for (const auto& m : maps)
          if (m.container_id == 0) return m.host_id;
        return -1;
      };
      const int64_t uid = host_of(lin->uid_mappings), gid = host_of(lin->gid_mappings);
      if (::chown(fifo.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) throw_errno("chown " + fifo);
    }
    fifo_fd.reset(::open(fifo.c_str(), O_PATH | O_CLOEXEC));
    if (!fifo_fd) throw_errno("open " + fifo);
    ic.fifo_fd = fifo_fd.get();
  }
  Fd console;
  if (!opts.console_socket.empty()) {
    console = connect_console_socket(opts.console_socket);
    ic.console_fd = console.get();
  } else if (opts.console_fd >= 0) {
    ic.console_fd = opts.console_fd;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
  Fd mine(sv[0]), theirs(sv[1]);
  ic.sync_fd = theirs.get();
  ic.in_user_namespace = in_user_namespace();
  ic.wait_for_go = ns.is_new(CLONE_NEWUSER) || ns.joins_user_or_pid() || ns.new_time;
  // startContainer hooks need the state JSON too, which comes with that round.
  ic.hook_round = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty() ||
                  !spec.hooks.create_container.empty() || !spec.hooks.start_container.empty();

  // The cgroup exists, limited, before the init does; the init is born in it
  // (the runtime steps in for the clone), so that nothing of its setup runs
  // unaccounted and a new cgroup namespace is rooted there.
  const cgroups::Resources resources = cgroups::parse_resources(lin ? lin->resources : nlohmann::json());
  // In a user namespace that may not create cgroups (rootless without
  // delegation) the container has none, as with runc's rootless mode:
  // device rules are moot there (it cannot make device nodes), limits are not.
  const bool cgroupless = !cgroups::may_create_cgroups();
  if (cgroupless && resources.limits_anything())
    throw FailedPrecondition("linux.resources: limits need a cgroup, and this user namespace may not create one");
  undo.cgroup.emplace(cgroupless ? cgroups::Paths{}
                                 : cgroups::resolve_here(cgroups::container_cgroup_path(
                                       lin ? lin->cgroups_path : "", opts.systemd_cgroup, id)));
  cgroups::Cgroup& cg = *undo.cgroup;
  undo.cgroup_made = !cgroupless && !cg.exists();
  if (!cgroupless) {
    cg.create(&resources);
    cg.apply(resources);
  }

  log::debug("create " + id + ": cloning init");
  // Sharing the memory also shares what the kernel keeps per mm: a time
  // namespace cannot be joined then, and oom_score_adj would change for the
  // runtime too.
  bool joins_time = false;
  for (const auto& j : ns.joins) joins_time |= j.flag == CLONE_NEWTIME;
  // A notify filter's fd comes back over the sync socket mid-setup.
  const bool share_vm = opts.start_immediately && !ic.wait_for_go && !ic.hook_round && !joins_time &&
                        !proc.oom_score_adj && !(seccomp && seccomp->notify());
  pid_t pid;
  {
    cgroups::Enter in_cgroup(cg);
    pid = spawn(ic, spec, ns, mine.get(), share_vm, in_cgroup.v2_fd());
  }
  undo.pid = pid;
  // The systemd driver: systemd takes the init (already in the cgroup) into
  // the container's transient scope, as runc does before the init execs.
  if (opts.systemd_cgroup && !cgroupless)
    undo.systemd_unit = cgroups::systemd::start_container_unit(cg, lin ? lin->cgroups_path : "", id, pid, resources);
  theirs.reset();
  console.reset();
  fifo_fd.reset();
  trees.clear();

  State s;
  s.id = id;
  s.pid = pid;
  s.bundle = bundle;
  s.rootfs = rootfs;
  s.annotations = spec.annotations;
  s.config = spec.raw;
  s.own_pid_ns = ns.is_new(CLONE_NEWPID);
  // None: kill --all and ps then find the processes by namespace.
  if (!cgroupless) s.cgroup = cg.paths().to_json();
  if (!undo.systemd_unit.empty()) s.cgroup[cgroups::systemd::kStateKey] = undo.systemd_unit;
  s.cgroup_owned = undo.cgroup_made;
  s.status = Status::creating;
  s.created = now_rfc3339();
  if (ns.is_new(CLONE_NEWUSER)) write_id_maps(pid, lin->uid_mappings, lin->gid_mappings);
  if (ic.wait_for_go) sync::send(mine.get(), sync::kGo);

  for (;;) {
    sync::Type t;
    std::string payload;
    int passed = -1;
    if (!sync::receive(mine.get(), t, payload, &passed)) {
      int status = 0;
      std::string how;
      if (::waitpid(pid, &status, WNOHANG) == pid)
        how = WIFEXITED(status) ? ": exit status " + std::to_string(WEXITSTATUS(status))
                                : ": signal " + std::to_string(WTERMSIG(status));
      throw Internal("create " + id + ": the container's init exited during setup" + how);
    }
    Fd passed_fd(passed);
    if (t == sync::kWarning) {
      log::warn(payload);
    } else if (t == sync::kError) {
      throw Internal("create " + id + ": " + payload);
    } else if (t == sync::kSeccomp) {
      if (!passed_fd || !lin || !lin->seccomp) throw Internal("create " + id + ": the init sent no seccomp listener fd");
      try {
        send_to_seccomp_listener(*lin->seccomp, passed_fd.get(), pid, s.to_hook_json());
      } catch (const Error& e) {
        sync::send(mine.get(), sync::kAbort);
        throw Error(e.code(), "create " + id + ": " + e.what());
      }
      passed_fd.reset();
      sync::send(mine.get(), sync::kGo);
    } else if (t == sync::kHooks) {
      const std::string state_json = s.to_hook_json().dump();
      try {
        run_hooks(spec.hooks.prestart, "prestart", state_json);
        run_hooks(spec.hooks.create_runtime, "createRuntime", state_json);
      } catch (const Error& e) {
        sync::send(mine.get(), sync::kAbort);
        throw Error(e.code(), "create " + id + ": " + e.what());
      }
      sync::send(mine.get(), sync::kGo, state_json);
    } else if (t == sync::kReady) {
      log::debug("create " + id + ": init ready");
      break;
    }
  }
  s.start_time = process_start_time(pid);
  s.status = opts.start_immediately ? Status::running : Status::created;
  save_state(dir, s);
  // Run-time state like state.json: atomic, not fsynced (see save_state).
  if (!opts.pid_file.empty()) write_file_atomic(opts.pid_file, std::to_string(pid), 0644, false);
  undo.armed = false;
  Container c(root, std::move(s));
  if (opts.start_immediately) c.run_poststart_hooks();
  return c;
}

}  // namespace crius::oci::runtime
