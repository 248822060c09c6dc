#include "image/pull/key_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>

#include "base/error.h"

namespace crius::image {

KeyLock::KeyLock(const std::string& dir, const std::string& key) : path_(dir + "/lock-" + key) {
  for (;;) {
    Fd fd(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_errno("creating lock file " + path_);
    int r;
    while ((r = ::flock(fd.get(), LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (r != 0) throw_errno("locking " + path_);
    // The holder before us unlinks the file as it lets go: a lock on a file
    // that is no longer at the path guards nothing, so take the new one.
    struct stat held, named;
    if (::fstat(fd.get(), &held) != 0) throw_errno("fstat of " + path_);
    if (::stat(path_.c_str(), &named) == 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev) {
      fd_ = std::move(fd);
      return;
    }
  }
}

KeyLock::~KeyLock() {
  // Unlinked while still held, so that no one can take a lock on it that a
  // later comer, making the file anew, would not see.
  ::unlink(path_.c_str());
}

}  // namespace crius::image
