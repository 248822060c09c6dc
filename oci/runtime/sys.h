// Small system helpers shared by the runtime: an owning fd, errno errors,
// whole-file reads and writes, atomic records.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "conf/error.h"

namespace crius::oci::runtime {

// Owns a file descriptor; closes it unless released.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// crius::Error "<what>: <strerror(err)>" with a code chosen from errno
// (ENOENT → NotFound, EEXIST → AlreadyExists, EINVAL → InvalidArgument…).
[[noreturn]] void throw_errno(const std::string& what, int err = -1);

std::string read_file(const std::string& path);
// Writes the whole of data to an open fd, retrying short writes.
bool write_all(int fd, const void* data, size_t len);
void write_file(const std::string& path, const std::string& data, int flags = 0);
// mkdir -p with mode for the created components.
void mkdir_all(const std::string& path, mode_t mode = 0755);
// rm -rf that does not cross into other mounts' contents.
void remove_all(const std::string& path);

// The start time of a process in clock ticks since boot (field 22 of
// /proc/<pid>/stat), 0 when the process does not exist; used to tell a
// process from a later one that reused its pid.
uint64_t process_start_time(pid_t pid);
// Whether the kernel has AppArmor enabled (profiles can be applied).
bool apparmor_enabled();
// The state letter of /proc/<pid>/stat ('R', 'S', 'Z'…), 0 when gone.
char process_state(pid_t pid);

}  // namespace crius::oci::runtime
