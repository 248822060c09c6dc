#include "base/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <thread>

#include "base/fd.h"

extern char** environ;

namespace crius {

namespace {

// Frees posix_spawn's attribute and action lists on every path.
struct SpawnAttrs {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

Spawned spawn_here(const SpawnOptions& o) {
  std::vector<char*> argv;
  for (const auto& a : o.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (o.env) {
    for (const auto& e : *o.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }

  SpawnAttrs s;
  int above = 0;
  for (const auto& f : o.fds) above = std::max(above, f.second + 1);
  // Each fd is first copied above every target, so that no dup2 onto a
  // target can overwrite a source still to be copied (fd 0 given as 1…).
  std::vector<Fd> sources;
  for (const auto& [from, to] : o.fds) {
    sources.emplace_back(::fcntl(from, F_DUPFD_CLOEXEC, above));
    if (!sources.back()) return {-1, errno};
    if (int err = posix_spawn_file_actions_adddup2(&s.actions, sources.back().get(), to)) return {-1, err};
  }
  // Not every fd of the daemon is close-on-exec (Asio's listeners are
  // not): a plugin must not keep, say, the metrics port open after a restart.
  for (int fd = 0; fd < above; ++fd) {
    const bool listed = std::any_of(o.fds.begin(), o.fds.end(), [fd](const auto& f) { return f.second == fd; });
    if (!listed)
      if (int err = posix_spawn_file_actions_addclose(&s.actions, fd)) return {-1, err};
  }
  if (int err = posix_spawn_file_actions_addclosefrom_np(&s.actions, above)) return {-1, err};
  if (!o.cwd.empty())
    if (int err = posix_spawn_file_actions_addchdir_np(&s.actions, o.cwd.c_str())) return {-1, err};

  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (o.new_session) flags |= POSIX_SPAWN_SETSID;
  if (o.new_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&s.attr, 0);
  }
  posix_spawnattr_setflags(&s.attr, flags);

  const std::string& path = o.program.empty() ? o.args.front() : o.program;
  pid_t pid = -1;
  const auto start = o.search_path ? ::posix_spawnp : ::posix_spawn;
  const int err = start(&pid, path.c_str(), &s.actions, &s.attr, argv.data(), o.env ? envp.data() : environ);
  if (err) return {-1, err};
  return {pid, 0};
}

}  // namespace

Spawned spawn(const SpawnOptions& o) {
  if (o.args.empty()) return {-1, EINVAL};
  if (o.netns_fd < 0) return spawn_here(o);
  // A network namespace belongs to a thread, and a child is born in its
  // parent thread's: a thread of its own enters it and ends with it, so no
  // thread of the daemon is left in the wrong namespace.
  Spawned out;
  try {
    std::thread t([&] {
      if (::setns(o.netns_fd, CLONE_NEWNET) != 0) {
        out = {-1, errno};
        return;
      }
      out = spawn_here(o);
    });
    t.join();
  } catch (const std::system_error& e) {  // no thread to spare
    return {-1, e.code().value()};
  }
  return out;
}

}  // namespace crius
