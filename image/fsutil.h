// Small filesystem helpers the image store shares: owned fds, atomic file
// writes, recursive removal, usage counting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crius::image {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset();

 private:
  int fd_ = -1;
};

// Creates `path` and its parents (0700 for new ones); throws Internal naming the path.
void make_dirs(const std::string& path);

// Removes a tree; missing is fine. Throws Internal naming the path on failure.
void remove_tree(const std::string& path);

// A random hex string for temporary names.
std::string random_hex(size_t bytes = 8);

struct Usage {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
};
// Disk blocks (st_blocks * 512) and inodes under `path`, each inode counted once.
Usage disk_usage(const std::string& path);

}  // namespace crius::image
