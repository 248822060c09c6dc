#include "sandbox/namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/file.h"
#include "base/mount.h"
#include "base/process.h"
#include "base/strings.h"
#include "sandbox/sysctl.h"
#include "sandbox/userns.h"

namespace crius::sandbox {

namespace {

void loopback_up() {
  const Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw Internal(errno_text("opening a socket to bring lo up", errno));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(sock.get(), SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    rc = ::ioctl(sock.get(), SIOCSIFFLAGS, &ifr);
  }
  if (rc != 0) throw Internal(errno_text("bringing lo up in the pod network namespace", errno));
}

constexpr const char* kKinds[] = {"net", "ipc", "uts"};

bool wanted(const NamespaceRequest& req, const std::string& kind) {
  return kind == "net" ? req.net : kind == "ipc" ? req.ipc : req.uts;
}

// A child process cloned into a new user namespace with the pod's other new
// namespaces, which it holds until it is killed (the daemon has other
// threads: the child makes no call but pause()).
class NamespaceHolder {
 public:
  explicit NamespaceHolder(unsigned long flags) {
    pid_ = static_cast<pid_t>(::syscall(SYS_clone, flags | CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0));
    if (pid_ < 0) throw Internal(errno_text("creating the pod's user namespace (clone)", errno));
    if (pid_ == 0)
      for (;;) ::pause();
  }
  ~NamespaceHolder() { kill_and_reap(pid_, false, std::chrono::seconds(10)); }
  NamespaceHolder(const NamespaceHolder&) = delete;
  NamespaceHolder& operator=(const NamespaceHolder&) = delete;
  std::string ns(const char* kind) const { return "/proc/" + std::to_string(pid_) + "/ns/" + kind; }
  // One write each: the kernel takes a map in a single write only. The
  // daemon has CAP_SETUID and CAP_SETGID over the parent user namespace, so
  // gid_map needs no "deny" in setgroups first (and the pod keeps setgroups).
  void write_maps(const std::vector<IdRange>& uids, const std::vector<IdRange>& gids) const {
    for (const auto& [file, ranges] : {std::pair{"uid_map", &uids}, std::pair{"gid_map", &gids}}) {
      const std::string path = "/proc/" + std::to_string(pid_) + "/" + file;
      const std::string text = id_map_text(*ranges);
      const Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw Internal(errno_text("writing the pod's " + std::string(file) + " (" + trim(text) + ")", errno));
    }
  }

 private:
  pid_t pid_ = -1;
};

// Sets up the pod's namespaces as the calling thread's: the hostname, lo,
// the sysctls.
void configure(const NamespaceRequest& req) {
  // The hostname was validated before anything was made: a refusal here is the kernel's, not the client's.
  if (req.uts && !req.hostname.empty() && ::sethostname(req.hostname.data(), req.hostname.size()) != 0)
    throw Internal(errno_text("setting hostname " + req.hostname, errno));
  if (req.net) loopback_up();
  for (const auto& [name, value] : req.sysctls) write_sysctl(name, value);
}

}  // namespace

void pin_namespace(const std::string& source, const std::string& path, const std::string& kind) {
  // The mount point: an empty file, as a namespace file is not a directory.
  const Fd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) throw Internal(errno_text("creating " + kind + " namespace pin " + path, errno));
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    throw Internal(errno_text("pinning the " + kind + " namespace at " + path, err));
  }
}

void unpin_namespace(const std::string& path) {
  detach_mount(path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw Internal(errno_text("removing namespace pin " + path, errno));
}

void unpin_all(const std::map<std::string, std::string>& paths, const std::string& dir) {
  for (const auto& [kind, path] : paths) unpin_namespace(path);
  if (!dir.empty() && ::rmdir(dir.c_str()) != 0 && errno != ENOENT)
    throw Internal(errno_text("removing namespace directory " + dir, errno));
}

PinnedNamespaces::PinnedNamespaces(PinnedNamespaces&& o) noexcept
    : paths_(std::move(o.paths_)), dir_(std::move(o.dir_)), kept_(o.kept_) {
  o.kept_ = true;
}

PinnedNamespaces& PinnedNamespaces::operator=(PinnedNamespaces&& o) noexcept {
  if (this != &o) {
    unpin_now();
    paths_ = std::move(o.paths_);
    dir_ = std::move(o.dir_);
    kept_ = o.kept_;
    o.kept_ = true;
  }
  return *this;
}

void PinnedNamespaces::unpin_now() {
  if (kept_) return;
  kept_ = true;
  try {
    unpin_all(paths_, dir_);
  } catch (const std::exception& e) {
    log::warn("unpinning pod namespaces failed", {{"dir", dir_}, {"error", e.what()}});
  }
}

PinnedNamespaces::~PinnedNamespaces() { unpin_now(); }

PinnedNamespaces PinnedNamespaces::create(const NamespaceRequest& req) {
  PinnedNamespaces out;
  if (!req.net && !req.ipc && !req.uts && !req.user) return out;
  mkdir_all(req.dir);
  out.dir_ = req.dir;
  const unsigned long flags = (req.net ? CLONE_NEWNET : 0) | (req.ipc ? CLONE_NEWIPC : 0) | (req.uts ? CLONE_NEWUTS : 0);

  // With a user namespace, every namespace is made and pinned first (from
  // the holder), then entered below; `out` unpins them if a step fails.
  if (req.user) {
    NamespaceHolder holder(flags);
    holder.write_maps(req.uids, req.gids);
    for (const char* kind : {"user", "net", "ipc", "uts"}) {
      if (std::string(kind) != "user" && !wanted(req, kind)) continue;
      const std::string path = req.dir + "/" + kind;
      pin_namespace(holder.ns(kind), path, kind);
      out.paths_[kind] = path;
    }
  }

  // The work happens in a thread of its own: unshare() and setns() move
  // only the calling thread, which then ends, leaving the daemon's threads
  // untouched.
  std::exception_ptr failure;
  std::map<std::string, std::string> pinned;
  std::thread worker([&] {
    try {
      if (req.user) {
        for (const char* kind : kKinds) {
          if (!wanted(req, kind)) continue;
          const std::string& path = out.paths_.at(kind);
          const Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
          if (!ns || ::setns(ns.get(), 0) != 0) throw Internal(errno_text("entering the pod's " + std::string(kind) + " namespace " + path, errno));
        }
        configure(req);
        return;
      }
      if (::unshare(static_cast<int>(flags)) != 0) throw Internal(errno_text("creating the pod namespaces (unshare)", errno));
      configure(req);
      for (const char* kind : kKinds) {
        if (!wanted(req, kind)) continue;
        const std::string path = req.dir + "/" + kind;
        pin_namespace(std::string("/proc/thread-self/ns/") + kind, path, kind);
        pinned[kind] = path;
      }
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  out.paths_.merge(pinned);
  if (failure) std::rethrow_exception(failure);  // `out` unpins what was pinned
  return out;
}

}  // namespace crius::sandbox
