// The owner of a directory stream (opendir/fdopendir), and the names in a
// directory, for the places that walk one level of a tree.
#pragma once

#include <dirent.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crius {

class Dir {
 public:
  // Throws (see throw_errno) naming the path; a missing one is NotFound.
  static Dir open(const std::string& path);
  // Nothing when the directory does not exist; other errors throw.
  static std::optional<Dir> open_if_exists(const std::string& path);
  // Takes fd (closed with the stream, or at once when fdopendir fails).
  static Dir from_fd(int fd, const std::string& what);
  Dir(Dir&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  Dir& operator=(Dir&& o) noexcept {
    if (this != &o) {
      close();
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() { close(); }

  // The next entry other than "." and "..", or nullptr at the end.
  const dirent* next();
  int fd() const { return ::dirfd(d_); }

 private:
  explicit Dir(DIR* d) : d_(d) {}
  void close() {
    if (d_) ::closedir(d_);
    d_ = nullptr;
  }
  DIR* d_ = nullptr;
};

// The entry names of a directory (not "." and ".."), unsorted; none when
// the directory does not exist. Other errors throw naming the path.
std::vector<std::string> list_dir(const std::string& path);

}  // namespace crius
