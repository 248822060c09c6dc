#include "oci/runtime/sys.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <random>

namespace crius::oci::runtime {

void throw_errno(const std::string& what, int err) {
  if (err < 0) err = errno;
  std::string msg = errno_text(what, err);
  switch (err) {
    case ENOENT: throw NotFound(msg);
    case EEXIST: throw AlreadyExists(msg);
    case EINVAL: throw InvalidArgument(msg);
    case EPERM:
    case EACCES: throw FailedPrecondition(msg);
    default: throw Internal(msg);
  }
}

std::string read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open " + path);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

void write_file(const std::string& path, const std::string& data, int flags) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
  if (!fd) throw_errno("open " + path);
  if (!write_all(fd.get(), data.data(), data.size())) throw_errno("write " + path);
}

void mkdir_all(const std::string& path, mode_t mode) {
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    pos = next + 1;
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) throw_errno("mkdir " + cur);
  }
}

void remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) throw Internal("removing " + path + ": " + ec.message());
}

namespace {
// Fields after the command name, which is in parentheses and may hold spaces.
std::string stat_tail(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  char buf[1024];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string s(buf, static_cast<size_t>(n));
  auto close = s.rfind(')');
  if (close == std::string::npos || close + 2 >= s.size()) return {};
  return s.substr(close + 2);
}
}  // namespace

char process_state(pid_t pid) {
  std::string t = stat_tail(pid);
  return t.empty() ? 0 : t[0];
}

uint64_t process_start_time(pid_t pid) {
  std::string t = stat_tail(pid);
  if (t.empty()) return 0;
  // The tail starts at field 3 (state); start time is field 22.
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = t.find(' ', pos);
    if (pos == std::string::npos) return 0;
    ++pos;
  }
  return std::strtoull(t.c_str() + pos, nullptr, 10);
}

bool apparmor_enabled() {
  try {
    std::string v = read_file("/sys/module/apparmor/parameters/enabled");
    return !v.empty() && v[0] == 'Y';
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace crius::oci::runtime
