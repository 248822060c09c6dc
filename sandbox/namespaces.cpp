#include "sandbox/namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
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
#include "sandbox/sysctl.h"

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
  if (!req.net && !req.ipc && !req.uts) return out;
  mkdir_all(req.dir);
  out.dir_ = req.dir;

  // The work happens in a thread of its own: unshare() moves only the
  // calling thread, which then ends, leaving the daemon's threads untouched.
  std::exception_ptr failure;
  std::map<std::string, std::string> pinned;
  std::thread worker([&] {
    try {
      int flags = (req.net ? CLONE_NEWNET : 0) | (req.ipc ? CLONE_NEWIPC : 0) | (req.uts ? CLONE_NEWUTS : 0);
      if (::unshare(flags) != 0) throw Internal(errno_text("creating the pod namespaces (unshare)", errno));
      // The hostname was validated before anything was made: a refusal here is the kernel's, not the client's.
      if (req.uts && !req.hostname.empty() && ::sethostname(req.hostname.data(), req.hostname.size()) != 0)
        throw Internal(errno_text("setting hostname " + req.hostname, errno));
      if (req.net) loopback_up();
      for (const auto& [name, value] : req.sysctls) write_sysctl(name, value);
      for (const char* kind : {"net", "ipc", "uts"}) {
        const bool wanted = std::string(kind) == "net" ? req.net : std::string(kind) == "ipc" ? req.ipc : req.uts;
        if (!wanted) continue;
        const std::string path = req.dir + "/" + kind;
        pin_namespace(std::string("/proc/thread-self/ns/") + kind, path, kind);
        pinned[kind] = path;
      }
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  out.paths_ = std::move(pinned);
  if (failure) std::rethrow_exception(failure);  // `out` unpins what was pinned
  return out;
}

}  // namespace crius::sandbox
