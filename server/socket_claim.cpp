#include "server/socket_claim.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/error.h"
#include "base/log.h"

namespace crius::server {
namespace {

// True when something accepts connections on the unix socket at `path`.
bool someone_listens(const std::string& path) {
  const Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

SocketClaim::SocketClaim(std::string path) : path_(std::move(path)) {
  sockaddr_un probe{};
  if (path_.size() >= sizeof probe.sun_path)
    throw InvalidArgument("socket path " + path_ + " is longer than " + std::to_string(sizeof probe.sun_path - 1) +
                          " bytes");
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  if (ec) throw Internal("creating the directory of socket " + path_ + ": " + ec.message());

  const std::string lock = path_ + ".lock";
  // Closed again (the lock with it) when the constructor throws.
  Fd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) throw Internal(errno_text("opening lock " + lock, errno));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) throw FailedPrecondition("another crius is already serving " + path_ + " (" + lock + " is locked)");
    throw Internal(errno_text("locking " + lock, errno));
  }

  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw FailedPrecondition(path_ + " exists and is not a socket; refusing to replace it");
    if (someone_listens(path_)) throw FailedPrecondition("another process is already serving " + path_);
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) throw Internal(errno_text("removing stale socket " + path_, errno));
    log::info("removed stale socket of a dead daemon", {{"socket", path_}});
  }
  lock_ = std::move(fd);
}

SocketClaim::~SocketClaim() {
  if (!lock_) return;
  // Unlinked while the lock is held, so that no new daemon has bound it yet;
  // already gone is fine.
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
    log::warn("removing the CRI socket", {{"error", errno_text("unlink " + path_, errno)}});
  // The lock file stays: unlinking it would let two new daemons lock two
  // different inodes for the same socket. lock_ closes after this.
}

void SocketClaim::restrict_mode() const {
  if (::chmod(path_.c_str(), 0660) != 0) throw Internal(errno_text("chmod 0660 " + path_, errno));
}

}  // namespace crius::server
