// The builtin OCI runtime's API, used in process by the per-pod monitor and
// by the runc-compatible `crius-runtime` command line:
//
//   auto c = Container::create("/run/crius-runtime", "web", {.bundle = dir});
//   c.start();                 // releases the init blocked on the exec fifo
//   c.state().status;          // created | running | stopped
//   c.kill(SIGTERM, false);
//   c.pause(); c.resume();     // freeze and thaw its cgroup
//   c.destroy(false);          // poststop hooks, cgroup and state dir removed
//
// create() clones the container's init from the calling process (no exec of
// a helper binary): the caller is its parent, or, when a user or pid
// namespace is joined by path, the caller's subreaper is. The calling
// process should be single-threaded between clone and exec of the init (the
// CLI is; the monitor calls it from its main thread).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "oci/cgroups/stats.h"
#include "oci/runtime/state.h"

namespace crius::oci::runtime {

struct CreateOptions {
  std::string bundle;          // directory holding config.json
  std::string console_socket;  // unix socket that receives the pty master
  int console_fd = -1;         // or an already connected one (not owned)
  std::string pid_file;        // written with the init's pid
  int preserve_fds = 0;        // fds 3..3+N-1 passed to the process
  // The process's stdin, stdout and stderr (not owned); -1 keeps the
  // caller's. The monitor passes its pipes here.
  int stdio[3] = {-1, -1, -1};
  // create and start in one step (`run`): the init execs as soon as it is
  // set up, without waiting on the exec fifo for a start; poststart hooks
  // run before create returns.
  bool start_immediately = false;
  // Keep the caller's session keyring instead of a new one named for the
  // container (runc's --no-new-keyring).
  bool no_new_keyring = false;
  // linux.cgroupsPath is slice:prefix:name (runc's --systemd-cgroup).
  bool systemd_cgroup = false;
};

class Container {
 public:
  // Sets everything up and returns with the init waiting to exec. Throws
  // crius::Error naming the step; nothing is left behind on failure.
  static Container create(const std::string& root, const std::string& id, const CreateOptions&);
  // NotFound when there is no such container.
  static Container load(const std::string& root, const std::string& id);
  // Every container under root, in name order (unreadable ones skipped).
  static std::vector<State> list(const std::string& root);

  // created → running; poststart hooks (failures are logged).
  void start();
  // The record with its status as of now.
  State state() const;
  // FailedPrecondition when the container is stopped. all: every process of
  // the container (its pid namespace), not just init.
  void kill(int sig, bool all);
  // Removes every trace. A running container is refused unless force, which
  // kills it first.
  void destroy(bool force);

  // Freezes every process of the container (running → paused) and thaws
  // them (paused → running). FailedPrecondition in any other state.
  void pause();
  void resume();
  // A live change of linux.resources (only the fields given).
  void update(const nlohmann::json& resources);
  // Every process of the container: its cgroup's, sorted.
  std::vector<pid_t> pids() const;
  // Its cgroup's usage figures.
  cgroups::Stats stats() const;

  const std::string& id() const { return state_.id; }
  pid_t pid() const { return state_.pid; }
  const std::string& dir() const { return dir_; }

 private:
  Container(std::string root, State s);
  void run_poststart_hooks();
  std::string root_;
  std::string dir_;
  State state_;
};

// Waits up to timeout_ms for pid to exit (reaping it when it is a child).
// Returns true when it is gone.
bool wait_for_exit(pid_t pid, int timeout_ms);

}  // namespace crius::oci::runtime
