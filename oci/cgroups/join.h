// Joining a cgroup without the kernel's global lock. A pid written to
// cgroup.procs moves a whole thread group under cgroup_threadgroup_rwsem, a
// lock over every thread group of the system whose first write after a quiet
// spell waits for an RCU grace period: 5-20 ms on this machine, on the path
// of every container create and exec. Both ways here leave that lock alone:
//  - v1: "0" written to a hierarchy's `tasks` moves the calling thread only,
//    which the kernel does under cgroup_mutex alone. A single-threaded caller
//    is then wholly there, and whatever it clones is born there.
//  - v2: clone3's CLONE_INTO_CGROUP (Linux 5.7) makes the child there at
//    birth, under the lock's read side.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/fd.h"

namespace crius::oci::cgroups {

// Moves the calling thread into a v1 cgroup directory. Throws as
// write_cgroup_file does.
void move_thread(const std::string& v1_dir);

// Whether dir is on a cgroup2 filesystem.
bool is_v2_dir(const std::string& dir);

// A v2 cgroup directory opened for clone_into. Throws naming it.
Fd open_v2_dir(const std::string& dir);

// fork(2), or clone(2) with namespace flags (SIGCHLD is added), with the
// child born in the v2 cgroup open as cgroup_fd (-1: the caller's). Returns
// as fork does. Without clone3 (Linux before 5.7) the child moves itself
// through cgroup.procs, and exits 125 with a line on stderr if it cannot.
pid_t clone_into(unsigned long flags, int cgroup_fd);

// clone(2) with CLONE_VM | CLONE_VFORK added, as posix_spawn does: the child
// runs fn(arg) on the given stack, in the caller's memory, while the caller
// waits for it to exec or exit; born in the v2 cgroup open as cgroup_fd
// (-1: the caller's). Returns the child's pid, or -1 with errno. Without
// clone3 here (another architecture, or Linux before 5.7) and a cgroup_fd:
// -1 with ENOSYS, and the caller takes clone_into.
pid_t clone_vm_into(unsigned long flags, int cgroup_fd, void* stack, size_t stack_size, int (*fn)(void*), void* arg);

}  // namespace crius::oci::cgroups
