#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "base/error.h"
#include "base/fd.h"

namespace crius {

namespace {

// Reads fd to its end; false with errno set on a read error.
bool read_all(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

std::optional<std::string> read_file_if_exists(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("opening " + path);
  }
  std::string out;
  if (!read_all(fd.get(), out)) throw_errno("reading " + path);
  return out;
}

std::string read_file(const std::string& path) {
  auto text = read_file_if_exists(path);
  if (!text) throw NotFound("reading " + path + ": no such file");
  return std::move(*text);
}

std::string read_file_or_empty(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string out;
  if (!fd || !read_all(fd.get(), out)) return "";
  return out;
}

bool write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    const ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

void write_file(const std::string& path, std::string_view data, int flags) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
  if (!fd) throw_errno("opening " + path);
  if (!write_all(fd.get(), data.data(), data.size())) throw_errno("writing " + path);
}

void write_file_atomic(const std::string& path, std::string_view content, unsigned mode, bool durable) {
  const std::string dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw write_error("creating directory " + dir, ec.value());
  std::string tmp = path + ".tmp-XXXXXX";
  Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) throw write_error("creating a temporary file for " + path);
  // The old record stays as it was; the temporary file goes.
  auto fail = [&](const char* step) {
    const int err = errno;
    fd.reset();
    ::unlink(tmp.c_str());
    throw write_error(std::string(step) + " " + tmp, err);
  };
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) fail("setting the mode of");
  if (!write_all(fd.get(), content.data(), content.size())) fail("writing");
  if (durable && ::fsync(fd.get()) != 0) fail("syncing");
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw write_error("renaming " + tmp + " to " + path, err);
  }
  if (!durable) return;
  // The rename is only durable once the directory is: a failure here means
  // a machine crash may bring back the old record, so it is reported.
  sync_directory(dir);
}

void sync_directory(const std::string& dir) {
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd || ::fsync(dfd.get()) != 0) throw write_error("syncing directory " + dir);
}

void mkdir_all(const std::string& path, mode_t mode) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    const std::string cur = path.substr(0, next);
    pos = next + 1;
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) throw_errno("creating directory " + cur);
  }
}

void remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) throw Internal("removing " + path + ": " + ec.message());
}

}  // namespace crius
