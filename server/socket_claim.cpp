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

#include "conf/error.h"
#include "conf/log.h"

namespace crius::server {
namespace {

// True when something accepts connections on the unix socket at `path`.
bool someone_listens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
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
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) throw Internal(errno_text("opening lock " + lock, errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) throw FailedPrecondition("another crius is already serving " + path_ + " (" + lock + " is locked)");
    throw Internal(errno_text("locking " + lock, err));
  }

  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(lock_fd_);
      throw FailedPrecondition(path_ + " exists and is not a socket; refusing to replace it");
    }
    if (someone_listens(path_)) {
      ::close(lock_fd_);
      throw FailedPrecondition("another process is already serving " + path_);
    }
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      int err = errno;
      ::close(lock_fd_);
      throw Internal(errno_text("removing stale socket " + path_, err));
    }
    log::info("removed stale socket of a dead daemon", {{"socket", path_}});
  }
}

SocketClaim::~SocketClaim() {
  if (lock_fd_ < 0) return;
  ::unlink(path_.c_str());
  // The lock file stays: unlinking it would let two new daemons lock two
  // different inodes for the same socket.
  ::close(lock_fd_);
}

void SocketClaim::restrict_mode() const {
  if (::chmod(path_.c_str(), 0660) != 0) throw Internal(errno_text("chmod 0660 " + path_, errno));
}

}  // namespace crius::server
