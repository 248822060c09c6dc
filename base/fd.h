// The one owner of a file descriptor in the project: closed when it goes out
// of scope unless released. Pipes come as a pair of owners.
#pragma once

#include <unistd.h>

#include <cstdint>

#include <string>
#include <utility>

namespace crius {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  // close(2)'s own error is of no use once the fd is gone (Linux frees it
  // even on EINTR), so it is not reported; a caller that needs to know that
  // written data reached the disk fsyncs first.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};
// pipe2(2) with `flags` (O_CLOEXEC by default); throws Internal naming `what`.
Pipe make_pipe(const char* what, int flags = -1);

// open(2) that throws (see throw_errno) naming the path when it fails.
Fd open_fd(const std::string& path, int flags, unsigned mode = 0);

// openat2(2) of `path` relative to the directory fd `root` with `resolve`
// (RESOLVE_* flags: RESOLVE_IN_ROOT, RESOLVE_BENEATH…); O_CLOEXEC is added,
// EAGAIN (a concurrent rename) retried. An empty Fd with errno set when it
// fails, for callers that tell ENOENT, ENOTDIR or EXDEV apart.
Fd openat2_fd(int root, const std::string& path, int flags, uint64_t resolve, unsigned mode = 0);

}  // namespace crius
