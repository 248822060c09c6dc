// One container's cgroup: create, apply resources, freeze, kill, destroy
// (and join, list its processes), on whichever hierarchy the host has (see
// hierarchy.h):
//   v2 only: everything in the unified directory (devices through BPF);
//   v1 / hybrid: every controller in its own hierarchy, plus the unified
//   directory of a hybrid host for membership (cgroup.kill).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/fd.h"
#include "oci/cgroups/path.h"
#include "oci/cgroups/resources.h"

namespace crius::oci::cgroups {

class Cgroup {
 public:
  explicit Cgroup(Paths p) : paths_(std::move(p)) {}
  const Paths& paths() const { return paths_; }

  // mkdir -p of every directory. v1 cpuset directories get their parent's
  // cpus and mems (the kernel leaves them empty); on a v2 host the
  // controllers the resources need are enabled in the ancestors.
  void create(const Resources* for_resources = nullptr);
  bool exists() const;
  // Moves pid (0: the caller) into every directory.
  void add(pid_t pid) const;
  // Writes the resources; update: a live change (devices left alone unless
  // given). Fields a hierarchy ignores are logged.
  void apply(const Resources&, bool update = false) const;
  // Freezes every process (cgroup.freeze or the v1 freezer) and waits until
  // the kernel says frozen (DeadlineExceeded after 5s, thawed again).
  void freeze() const;
  void thaw() const;
  bool frozen() const;
  // Every process of the cgroup (cgroup.procs), sorted.
  std::vector<pid_t> pids() const;
  // SIGKILL to every process: cgroup.kill where the kernel has it.
  void kill_all() const;
  // Removes the container's own directories (never a parent). Processes
  // still there after a bounded wait: FailedPrecondition naming them.
  void destroy() const;

 private:
  std::string dir_for(const std::string& controller) const;
  Paths paths_;
};

// Puts the calling thread into a cgroup for the life of the object, and back,
// so that create() can clone the init into it (and root a new cgroup
// namespace there), without the global lock (join.h): the thread moves into
// the v1 directories itself; the v2 one is only opened, for clone_into.
class Enter {
 public:
  explicit Enter(const Cgroup&);
  ~Enter();
  Enter(const Enter&) = delete;
  Enter& operator=(const Enter&) = delete;
  // For clone_into: -1 when the cgroup has no v2 directory.
  int v2_fd() const { return v2_.get(); }

 private:
  void leave() noexcept;
  std::vector<std::string> back_;  // v1 directories the thread came from
  Fd v2_;
};

// Writes value to dir/file; InvalidArgument naming file and value when the
// kernel refuses it (EINVAL, ERANGE), FailedPrecondition when the file does
// not exist (controller not available).
void write_cgroup_file(const std::string& dir, const std::string& file, const std::string& value);

}  // namespace crius::oci::cgroups
