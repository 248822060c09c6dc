#include "base/dir_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "base/error.h"

namespace crius {

namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// On a parent only its child appearing, or the parent itself going away, matters.
constexpr uint32_t kParentEvents = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

DirWatch::DirWatch(std::string dir) : dir_(std::move(dir)), inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (!inotify_) throw Internal(errno_text("inotify_init1 to watch " + dir_, errno));
  arm();
}

void DirWatch::arm() {
  const int old = watch_;
  int w = -1;
  // The parent's watch is placed before the directory is looked at again,
  // so that a directory created in between is not missed.
  for (int attempt = 0; attempt < 100; ++attempt) {
    w = ::inotify_add_watch(inotify_.get(), dir_.c_str(), kDirEvents);
    watching_dir_ = w >= 0;
    if (watching_dir_) break;
    for (std::filesystem::path p(dir_); w < 0 && p.has_parent_path() && p != p.root_path();) {
      p = p.parent_path();
      w = ::inotify_add_watch(inotify_.get(), p.c_str(), kParentEvents);
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(dir_, ec)) break;
    if (w >= 0 && w != old) ::inotify_rm_watch(inotify_.get(), w);
  }
  if (old >= 0 && old != w) ::inotify_rm_watch(inotify_.get(), old);
  watch_ = w;
  ++generation_;
}

uint64_t DirWatch::generation() {
  alignas(inotify_event) char buf[8192];
  bool rearm = false, changed = false;
  for (;;) {
    ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    changed = true;
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      // Place the watch again when the watched directory went away, when the
      // awaited one may have appeared, or when events were lost. Events of a
      // watch already replaced only count as a change.
      if (ev->mask & IN_Q_OVERFLOW) rearm = true;
      if (ev->wd == watch_ && (!watching_dir_ || ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)))
        rearm = true;
    }
  }
  if (rearm) arm();
  if (changed) ++generation_;
  return generation_;
}

}  // namespace crius
