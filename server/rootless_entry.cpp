#include "server/rootless_entry.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/proc_stat.h"
#include "base/spawn.h"
#include "sandbox/rootless_network.h"

namespace crius::server {
namespace {

std::string user_name(uid_t uid) {
  struct passwd pw, *found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return found->pw_name;
  return std::to_string(uid);
}

// newuidmap's (or newgidmap's) arguments for `pid`: our own ID as 0, then
// each subordinate range from 1 on.
std::vector<std::string> map_args(const char* tool, pid_t pid, unsigned long own,
                                  const std::vector<SubordinateRange>& ranges) {
  std::vector<std::string> args{tool, std::to_string(pid), "0", std::to_string(own), "1"};
  unsigned long inner = 1;
  for (const auto& r : ranges) {
    args.insert(args.end(), {std::to_string(inner), std::to_string(r.start), std::to_string(r.count)});
    inner += r.count;
  }
  return args;
}

// Runs argv (a setuid helper) and waits; its stderr is ours. Returns its
// exit status text, or "" on success.
std::string run_helper(const std::vector<std::string>& args) {
  SpawnOptions o;
  o.args = args;
  // Our stdio, those of it that are open (a daemon may be started without).
  for (int fd = 0; fd < 3; ++fd)
    if (::fcntl(fd, F_GETFD) >= 0) o.fds.push_back({fd, fd});
  o.search_path = true;
  const Spawned s = spawn(o);
  if (s.pid < 0 && s.error == ENOENT) return "not found (Debian's uidmap package provides it)";
  if (s.pid < 0) return errno_text("starting " + args.front(), s.error);
  int status = 0;
  while (::waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                           : "signal " + std::to_string(WTERMSIG(status));
}

constexpr const char* kHolderName = "crius-pause";

std::string holder_pid_file(const std::string& state_dir) {
  return sandbox::RootlessNetwork::dir_of(state_dir) + "/holder.pid";
}

// Joins the user and mount namespaces of `holder`: we own its user
// namespace, so we have every capability in it.
bool join_holder(pid_t holder) {
  const std::string ns = "/proc/" + std::to_string(holder) + "/ns/";
  Fd user(::open((ns + "user").c_str(), O_RDONLY | O_CLOEXEC));
  Fd mnt(::open((ns + "mnt").c_str(), O_RDONLY | O_CLOEXEC));
  if (!user || !mnt) return false;
  if (::setns(user.get(), CLONE_NEWUSER) != 0) return false;
  if (::setns(mnt.get(), CLONE_NEWNS) != 0) throw_errno("joining the mount namespace of the earlier daemon's holder");
  return true;
}

// Starts the holder in our namespaces, in a session of its own so that
// signals to the daemon's group do not reach it.
void start_holder(const std::string& state_dir, const std::string& binary) {
  mkdir_all(sandbox::RootlessNetwork::dir_of(state_dir), 0700);
  if (binary.empty() || ::access(binary.c_str(), X_OK) != 0) {
    log::warn("no crius-pause beside crius to hold the namespaces: pods will not outlive a restart of the daemon",
              {{"binary", binary}});
    return;
  }
  // Nothing of the daemon's: a journal stream or a pipe held by the holder
  // would never see its end.
  Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) throw_errno("opening /dev/null for the namespace holder");
  SpawnOptions o;
  o.args = {kHolderName};
  o.program = binary;
  o.fds = {{null.get(), 0}, {null.get(), 1}, {null.get(), 2}};
  o.new_session = true;
  const Spawned s = spawn(o);
  if (s.pid < 0) throw_errno("starting the namespace holder " + binary, s.error);
  const pid_t pid = s.pid;
  try {
    write_file_atomic(holder_pid_file(state_dir), std::to_string(pid), 0600);
  } catch (...) {
    ::kill(pid, SIGKILL);  // a holder no pid file names would outlive us unseen
    throw;
  }
}

}  // namespace

std::vector<SubordinateRange> subordinate_ranges(const std::string& text, const std::string& name, unsigned long id) {
  std::vector<SubordinateRange> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto a = line.find(':'), b = line.find(':', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string who = line.substr(0, a);
    if (who != name && who != std::to_string(id)) continue;
    try {
      size_t end1 = 0, end2 = 0;
      const std::string s1 = line.substr(a + 1, b - a - 1), s2 = line.substr(b + 1);
      SubordinateRange r{std::stoul(s1, &end1), std::stoul(s2, &end2)};
      if (end1 == s1.size() && end2 == s2.size() && r.count > 0) out.push_back(r);
    } catch (const std::exception&) {
      // A malformed line is skipped, as newuidmap does.
    }
  }
  return out;
}

void enter_rootless_namespaces(const std::string& state_dir, const std::string& holder_binary) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const std::string uname = user_name(uid);
  const pid_t holder = running_pid_in_file(holder_pid_file(state_dir), kHolderName);
  if (holder > 0 && join_holder(holder)) {
    if (::setresgid(0, 0, 0) != 0) throw_errno("becoming group 0 in the user namespace");
    if (::setresuid(0, 0, 0) != 0) throw_errno("becoming user 0 in the user namespace");
    log::info("running rootless in the namespaces of the earlier daemon",
              {{"user", uname}, {"uid", std::to_string(uid)}, {"holder_pid", std::to_string(holder)}});
    return;
  }
  const auto uids = subordinate_ranges(read_file_if_exists("/etc/subuid").value_or(""), uname, uid);
  // newgidmap looks the user up too, by name or uid, not the group.
  const auto gids_of_user = subordinate_ranges(read_file_if_exists("/etc/subgid").value_or(""), uname, uid);

  // A helper child maps us from outside once we are in the new namespace:
  // it waits for one byte on the pipe.
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe for the user namespace's ID maps");
  Fd go_r(p[0]), go_w(p[1]);
  const pid_t self = ::getpid();
  const bool ranges = !uids.empty() && !gids_of_user.empty();
  const pid_t helper = ::fork();
  if (helper < 0) throw_errno("fork for the user namespace's ID maps");
  if (helper == 0) {
    go_w.reset();
    char c;
    if (::read(go_r.get(), &c, 1) != 1) ::_exit(2);
    if (!ranges) ::_exit(0);  // we write the single mapping ourselves
    const std::string u = run_helper(map_args("newuidmap", self, uid, uids));
    if (!u.empty()) {
      std::fprintf(stderr, "crius: newuidmap: %s\n", u.c_str());
      ::_exit(3);
    }
    const std::string g = run_helper(map_args("newgidmap", self, gid, gids_of_user));
    if (!g.empty()) {
      std::fprintf(stderr, "crius: newgidmap: %s\n", g.c_str());
      ::_exit(4);
    }
    ::_exit(0);
  }
  go_r.reset();
  const int unshared = ::unshare(CLONE_NEWUSER);
  const int unshare_errno = errno;
  const char go = 1;
  if (::write(go_w.get(), &go, 1) != 1) {
  }
  go_w.reset();
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  if (unshared != 0) throw Internal(errno_text("creating a user namespace (is user.max_user_namespaces 0?)", unshare_errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Internal("mapping IDs into the user namespace for user " + uname +
                   " failed (see newuidmap's or newgidmap's message above; /etc/subuid and /etc/subgid must give the "
                   "user a range)");
  if (!ranges) {
    log::warn("no subordinate ID range for this user in /etc/subuid and /etc/subgid: only its own ID is mapped, so "
              "files that images give other owners are kept as root, and containers cannot switch users",
              {{"user", uname}});
    write_file("/proc/self/setgroups", "deny");
    write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n");
    write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n");
  }
  if (::setresgid(0, 0, 0) != 0) throw_errno("becoming group 0 in the user namespace");
  if (::setresuid(0, 0, 0) != 0) throw_errno("becoming user 0 in the user namespace");
  if (ranges && ::setgroups(0, nullptr) != 0) throw_errno("dropping supplementary groups in the user namespace");
  if (::unshare(CLONE_NEWNS) != 0) throw_errno("creating a mount namespace");
  // Host mounts still reach us; ours never reach the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
    throw_errno("making the mount namespace a slave of the host's");
  start_holder(state_dir, holder_binary);
  log::info("running rootless in a user namespace of our own",
            {{"user", uname},
             {"uid", std::to_string(uid)},
             {"subordinate_uids", uids.empty() ? "none" : std::to_string(uids.front().start) + "+" +
                                                              std::to_string(uids.front().count)}});
}

void release_rootless_namespaces(const std::string& state_dir) {
  const pid_t holder = running_pid_in_file(holder_pid_file(state_dir), kHolderName);
  if (holder > 0) ::kill(holder, SIGTERM);
  ::unlink(holder_pid_file(state_dir).c_str());
}

}  // namespace crius::server
