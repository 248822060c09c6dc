#include "oci/runtime/container.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "base/dir.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/proc_stat.h"
#include "oci/cgroups/cgroup.h"
#include "oci/cgroups/systemd.h"
#include "oci/runtime/hooks.h"
#include "oci/runtime/rootfs.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {
namespace {

std::vector<pid_t> container_processes(const State& s) {
  if (s.cgroup.is_object()) return cgroups::Cgroup(cgroups::Paths::from_json(s.cgroup)).pids();
  // Until the container has a cgroup, its pid namespace (or, without one,
  // its mount namespace, which every container has of its own) says who
  // belongs to it.
  return processes_in_namespace(s.pid, s.own_pid_ns ? "pid" : "mnt");
}

cgroups::Cgroup cgroup_of(const State& s) {
  if (!s.cgroup.is_object()) throw FailedPrecondition("container " + s.id + " has no cgroup");
  return cgroups::Cgroup(cgroups::Paths::from_json(s.cgroup));
}

// Kills what is left in the container's cgroup and removes it (when create
// made it). Processes that survive are reported, and the state is kept so
// that a later delete can retry.
void remove_cgroup(const State& s) {
  if (!s.cgroup.is_object()) return;
  const cgroups::Cgroup cg(cgroups::Paths::from_json(s.cgroup));
  if (cg.exists() && !cg.pids().empty()) {
    cg.kill_all();
    // SIGKILL does not end a task the v1 freezer holds.
    if (cg.frozen()) cg.thaw();
  }
  // The systemd driver's scope goes after its processes (a stop job would
  // otherwise wait for them to take SIGTERM); systemd removes its cgroup.
  try {
    cgroups::systemd::stop_container_unit(s.cgroup);
  } catch (const Error& e) {
    throw Error(e.code(), "delete " + s.id + ": " + e.what());
  }
  if (!s.cgroup_owned || !cg.exists()) return;
  try {
    cg.destroy();
  } catch (const Error& e) {
    throw Error(e.code(), "delete " + s.id + ": " + e.what());
  }
}

Hooks hooks_of(const State& s) {
  try {
    if (s.config.is_object()) return parse_spec(s.config).hooks;
  } catch (const std::exception& e) {
    log::warn(std::string("reading hooks from the saved config: ") + e.what());
  }
  return {};
}

}  // namespace

bool wait_for_exit(pid_t pid, int timeout_ms) {
  if (pid <= 0) return true;
  int status;
  if (::waitpid(pid, &status, WNOHANG) == pid) return true;
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return errno == ESRCH;
  struct pollfd p {pidfd.get(), POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left < 0) left = 0;
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) break;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
  ::waitpid(pid, &status, WNOHANG);
  return true;
}

Container::Container(std::string root, State s)
    : root_(std::move(root)), dir_(state_dir(root_, s.id)), state_(std::move(s)) {}

Container Container::load(const std::string& root, const std::string& id) {
  return Container(root, load_state(root, id));
}

std::vector<State> Container::list(const std::string& root) {
  std::vector<State> out;
  std::vector<std::string> names = list_dir(root);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    try {
      out.push_back(load_state(root, n));
    } catch (const std::exception& e) {
      // A container being created or deleted right now: the list is of
      // the ones that are there.
      log::debug("list: skipping " + n + ": " + e.what());
    }
  }
  return out;
}

State Container::state() const {
  State s = state_;
  s.status = current_status(dir_, s);
  return s;
}

void Container::start() {
  state_.status = current_status(dir_, state_);
  if (state_.status != Status::created)
    throw FailedPrecondition("cannot start container " + state_.id + ": it is " + status_name(state_.status) +
                             ", not created");
  const std::string fifo = dir_ + "/exec.fifo";
  Fd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) throw_errno("start " + state_.id + ": open " + fifo);
  // The init opens its end as soon as ours exists; it writes one byte.
  struct pollfd p {fd.get(), POLLIN, 0};
  for (int waited = 0;; waited += 100) {
    int rc = ::poll(&p, 1, 100);
    if (rc > 0) break;
    if (rc < 0 && errno != EINTR) throw_errno("start " + state_.id + ": poll " + fifo);
    if (current_status(dir_, state_) == Status::stopped)
      throw FailedPrecondition("start " + state_.id + ": the container's init exited before start");
    if (waited > 60000) throw DeadlineExceeded("start " + state_.id + ": the container's init did not answer in 60s");
  }
  char c;
  if (::read(fd.get(), &c, 1) != 1) throw FailedPrecondition("start " + state_.id + ": the container's init exited before start");
  ::unlink(fifo.c_str());
  state_.status = Status::running;
  run_poststart_hooks();
}

void Container::run_poststart_hooks() {
  const Hooks h = hooks_of(state_);
  for (const auto& hook : h.poststart) {
    try {
      run_hook(hook, "poststart", state_.to_hook_json().dump());
    } catch (const std::exception& e) {
      log::warn(e.what());
    }
  }
}

void Container::kill(int sig, bool all) {
  state_.status = current_status(dir_, state_);
  if (state_.status == Status::stopped)
    throw FailedPrecondition("cannot kill container " + state_.id + ": it is stopped");
  std::vector<pid_t> pids = {state_.pid};
  if (all) pids = container_processes(state_);
  for (pid_t pid : pids)
    if (::kill(pid, sig) != 0 && errno != ESRCH)
      throw_errno("kill " + state_.id + " (pid " + std::to_string(pid) + ") with signal " + std::to_string(sig));
}

void Container::destroy(bool force) {
  state_.status = current_status(dir_, state_);
  if (state_.status == Status::running || state_.status == Status::paused) {
    if (!force)
      throw FailedPrecondition("cannot delete container " + state_.id + " that is not stopped: " +
                               status_name(state_.status));
  }
  if (state_.status != Status::stopped) {
    // With its own pid namespace, the init's death takes every process of
    // the container with it; without one, the others are found by namespace.
    const std::vector<pid_t> pids =
        state_.own_pid_ns ? std::vector<pid_t>{state_.pid} : container_processes(state_);
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    if (state_.status == Status::paused) cgroup_of(state_).thaw();
    if (!wait_for_exit(state_.pid, 10000))
      throw DeadlineExceeded("delete " + state_.id + ": pid " + std::to_string(state_.pid) + " did not exit within 10s of SIGKILL");
    state_.status = Status::stopped;
  }
  remove_cgroup(state_);
  const std::string shared_rootfs = dir_ + "/" + kSharedRootfsFile;
  if (auto text = read_file_if_exists(shared_rootfs)) {
    size_t end = 0;
    const size_t before = std::stoul(*text, &end);
    const std::string path = end < text->size() ? text->substr(end + 1) : state_.rootfs;
    detach_rootfs_bind(path.empty() ? state_.rootfs : path, before);
  }
  const Hooks h = hooks_of(state_);
  for (const auto& hook : h.poststop) {
    try {
      run_hook(hook, "poststop", state_.to_hook_json().dump());
    } catch (const std::exception& e) {
      log::warn(e.what());
    }
  }
  remove_all(dir_);
}

void Container::pause() {
  state_.status = current_status(dir_, state_);
  if (state_.status != Status::running)
    throw FailedPrecondition("cannot pause container " + state_.id + ": it is " + status_name(state_.status) +
                             ", not running");
  cgroup_of(state_).freeze();
  state_.status = Status::paused;
}

void Container::resume() {
  state_.status = current_status(dir_, state_);
  if (state_.status != Status::paused)
    throw FailedPrecondition("cannot resume container " + state_.id + ": it is " + status_name(state_.status) +
                             ", not paused");
  cgroup_of(state_).thaw();
  state_.status = Status::running;
}

void Container::update(const nlohmann::json& resources) {
  state_.status = current_status(dir_, state_);
  if (state_.status == Status::stopped)
    throw FailedPrecondition("cannot update container " + state_.id + ": it is stopped");
  cgroup_of(state_).apply(cgroups::parse_resources(resources), true);
}

std::vector<pid_t> Container::pids() const {
  if (state_.cgroup.is_object()) return cgroup_of(state_).pids();
  if (current_status(dir_, state_) == Status::stopped) return {};
  return container_processes(state_);
}

cgroups::Stats Container::stats() const { return cgroups::read_stats(cgroup_of(state_).paths()); }

}  // namespace crius::oci::runtime
