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

static void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Internal(errno_text("writing " + path, errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void atomic_write_file(const std::string& path, std::string_view content, unsigned mode) {
  const std::string tmp = path + ".tmp-" + random_hex(4);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) throw Internal(errno_text("creating " + tmp, errno));
  try {
    write_all(fd.get(), content.data(), content.size(), tmp);
    if (::fsync(fd.get()) != 0) throw Internal(errno_text("fsync " + tmp, errno));
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw Internal(errno_text("renaming " + tmp + " to " + path, errno));
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
}

std::string read_whole_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT) throw NotFound(errno_text("reading " + path, err));
    throw Internal(errno_text("reading " + path, err));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Internal(errno_text("reading " + path, errno));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
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
