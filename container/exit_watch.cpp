#include "container/exit_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
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
  wake(true);
  thread_.join();
}

void ExitWatch::wake(bool stop) {
  if (stop) {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

bool ExitWatch::watch_process(pid_t pid, std::function<void()> on_gone) {
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    if (errno == ESRCH) return false;
    throw_errno("pidfd_open of pid " + std::to_string(pid));
  }
  // An ended process that nobody has reaped yet still opens; its pidfd reads as ended.
  pollfd p = {pidfd.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) > 0) return false;
  {
    std::lock_guard lock(mu_);
    const int fd = pidfd.get();
    processes_[fd] = {std::move(pidfd), std::move(on_gone)};
  }
  wake(false);
  return true;
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
    std::vector<pollfd> fds = {{inotify_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    {
      std::lock_guard lock(mu_);
      for (const auto& [fd, entry] : processes_) fds.push_back({fd, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      log::error("the exit watch stopped", {{"error", errno_text("poll", errno)}});
      return;
    }
    if (fds[1].revents) {
      uint64_t count;
      (void)!::read(wake_.get(), &count, sizeof count);
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    std::vector<std::function<void()>> gone;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      std::lock_guard lock(mu_);
      auto it = processes_.find(fds[i].fd);
      if (it == processes_.end()) continue;
      gone.push_back(std::move(it->second.second));
      processes_.erase(it);
    }
    for (auto& on_gone : gone) {
      try {
        on_gone();
      } catch (const std::exception& e) {
        log::warn("taking a process's end", {{"error", e.what()}});
      }
    }
    if (!fds[0].revents) continue;
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
