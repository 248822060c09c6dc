#include "sandbox/pause_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "conf/error.h"
#include "conf/log.h"

namespace crius::sandbox {

namespace {
constexpr int kPidfd = 3;  // waitid's P_PIDFD (Linux 5.4), which older headers lack
}  // namespace

PauseWatch::PauseWatch(std::function<void(pid_t)> on_exit) : on_exit_(std::move(on_exit)) {
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) throw Internal(errno_text("eventfd for the crius-pause watch", errno));
  thread_ = std::thread([this] { loop(); });
}

PauseWatch::~PauseWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake();
  thread_.join();
  for (auto& [pid, fd] : pidfds_) ::close(fd);
  ::close(wake_);
}

void PauseWatch::wake() {
  uint64_t one = 1;
  if (::write(wake_, &one, sizeof one) < 0) {
  }
}

bool PauseWatch::add(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    if (errno != ESRCH)
      log::error("cannot watch crius-pause", {{"pid", std::to_string(pid)}, {"error", errno_text("pidfd_open", errno)}});
    return false;
  }
  {
    std::lock_guard lock(mu_);
    if (auto it = pidfds_.find(pid); it != pidfds_.end()) ::close(it->second);
    pidfds_[pid] = fd;
  }
  wake();
  return true;
}

void PauseWatch::loop() {
  std::vector<pollfd> fds;
  std::vector<pid_t> pids;
  for (;;) {
    fds.assign(1, pollfd{wake_, POLLIN, 0});
    pids.assign(1, 0);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      for (const auto& [pid, fd] : pidfds_) {
        fds.push_back({fd, POLLIN, 0});
        pids.push_back(pid);
      }
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      log::error("crius-pause watch stopped", {{"error", errno_text("poll", errno)}});
      return;
    }
    if (fds[0].revents) {
      uint64_t n;
      if (::read(wake_, &n, sizeof n) < 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      const pid_t pid = pids[i];
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        auto it = pidfds_.find(pid);
        if (it == pidfds_.end() || it->second != fds[i].fd) continue;
        // Reap it through its pidfd, which cannot name a reused PID; ECHILD
        // after a daemon restart, when init reaps it.
        siginfo_t info{};
        while (::waitid(static_cast<idtype_t>(kPidfd), static_cast<id_t>(it->second), &info, WEXITED | WNOHANG) < 0 &&
               errno == EINTR) {
        }
        ::close(it->second);
        pidfds_.erase(it);
      }
      on_exit_(pid);
    }
  }
}

}  // namespace crius::sandbox
