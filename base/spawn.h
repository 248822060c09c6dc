// Starting a program from the daemon without forking it: posix_spawn, which
// glibc builds on clone(CLONE_VM|CLONE_VFORK). A fork() of the daemon copies
// its page tables and runs every library's fork handlers (gRPC's among
// them) in both processes: about 3.5 ms in the daemon and more in the child,
// on every CNI plugin and monitor start. Here the calling thread waits only
// until the program is exec'd.
//
//   SpawnOptions o;
//   o.args = {"/opt/cni/bin/bridge"};
//   o.fds = {{in, 0}, {out, 1}, {err, 2}};
//   Spawned s = spawn(o);   // s.pid, or -1 and s.error
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace crius {

struct SpawnOptions {
  std::vector<std::string> args;          // argv; args[0] is the path unless program is set
  std::string program;                    // the file to run, when not args[0]
  const std::vector<std::string>* env = nullptr;  // exactly this environment; null: ours
  std::vector<std::pair<int, int>> fds;   // {our fd, its number in the child}; every other fd is closed
  bool new_session = false;               // setsid(): no controlling terminal, no process group of ours
  bool new_group = false;                 // setpgid(0, 0): a kill of -pid reaches what it starts
  std::string cwd;                        // empty: ours
  int netns_fd = -1;                      // a network namespace to run it in; -1: ours
  bool search_path = false;               // a program without '/' is looked for in $PATH
};

struct Spawned {
  pid_t pid = -1;  // our child; -1 when it could not be started
  int error = 0;   // why not: the errno of the exec (ENOENT, EACCES…), of the clone, or of setns
};

// The child gets an empty signal mask and every signal at its default
// action. Never throws: a program that cannot be started is an error the
// caller words (a CNI plugin's, a runtime's, the monitor's).
Spawned spawn(const SpawnOptions& o);

}  // namespace crius
