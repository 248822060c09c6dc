#include "base/dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace crius {

Dir Dir::open(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) throw_errno("opening directory " + path);
  return Dir(d);
}

std::optional<Dir> Dir::open_if_exists(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("opening directory " + path);
  }
  return Dir(d);
}

Dir Dir::from_fd(int fd, const std::string& what) {
  DIR* d = ::fdopendir(fd);
  if (!d) {
    const int err = errno;
    ::close(fd);
    throw_errno("opening directory " + what, err);
  }
  return Dir(d);
}

const dirent* Dir::next() {
  for (;;) {
    const dirent* e = ::readdir(d_);
    if (!e) return nullptr;
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) return e;
  }
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  auto d = Dir::open_if_exists(path);
  if (!d) return out;
  while (const dirent* e = d->next()) out.emplace_back(e->d_name);
  return out;
}

}  // namespace crius
