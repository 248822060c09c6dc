#include "image/fsutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <utility>

#include "conf/error.h"

namespace crius::image {

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0 && errno != EINTR) throw Internal(errno_text("getrandom", errno));
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Internal("creating directory " + path + ": " + ec.message());
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) throw Internal("removing " + path + ": " + ec.message());
}

namespace {
thread_local Usage* tl_usage;
thread_local std::set<std::pair<dev_t, ino_t>>* tl_seen;
int count_entry(const char*, const struct stat* st, int, struct FTW*) {
  if (tl_seen->insert({st->st_dev, st->st_ino}).second) {
    tl_usage->bytes += static_cast<uint64_t>(st->st_blocks) * 512;
    tl_usage->inodes += 1;
  }
  return 0;
}
}  // namespace

Usage disk_usage(const std::string& path) {
  Usage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  tl_usage = &u;
  tl_seen = &seen;
  ::nftw(path.c_str(), count_entry, 64, FTW_PHYS | FTW_MOUNT);
  return u;
}

}  // namespace crius::image
