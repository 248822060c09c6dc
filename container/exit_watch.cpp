#include "container/exit_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"

namespace crius::container {

ExitWatch::ExitWatch(std::function<void(const std::string&)> on_exit)
    : on_exit_(std::move(on_exit)),
      inotify_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!inotify_) throw_errno("inotify_init1 for the monitors' exit records");
  if (!wake_) throw_errno("eventfd for the exit watch");
  thread_ = std::thread([this] { run(); });
}

ExitWatch::~ExitWatch() {
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void ExitWatch::watch(const std::string& monitor_dir) {
  const std::string dir = monitor_dir + "/exits";
  std::lock_guard lock(mu_);
  if (watched_.count(dir)) return;
  // The monitor makes it too; made here first, no exit can slip in between.
  mkdir_all(dir, 0700);
  const int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
  if (wd < 0) throw_errno("watching the exit records in " + dir);
  dirs_[wd] = dir;
  watched_.insert(dir);
}

void ExitWatch::run() {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log::error("the exit watch stopped", {{"error", errno_text("poll", errno)}});
      return;
    }
    if (fds[1].revents) return;
    const ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
    if (n <= 0) continue;
    std::vector<std::string> exited;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
      off += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_IGNORED) {  // the directory went with its pod
        std::lock_guard lock(mu_);
        if (auto it = dirs_.find(ev->wd); it != dirs_.end()) {
          watched_.erase(it->second);
          dirs_.erase(it);
        }
        continue;
      }
      const std::string name = ev->len ? std::string(ev->name) : "";
      if (name.size() > 5 && name.ends_with(".json")) exited.push_back(name.substr(0, name.size() - 5));
    }
    for (const auto& id : exited) {
      try {
        on_exit_(id);
      } catch (const std::exception& e) {
        log::warn("taking a container's exit", {{"id", id}, {"error", e.what()}});
      }
    }
  }
}

}  // namespace crius::container
