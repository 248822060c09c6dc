#include "sandbox/pause_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/error.h"
#include "base/log.h"

namespace crius::sandbox {

namespace {
constexpr int kPidfd = 3;  // waitid's P_PIDFD (Linux 5.4), which older headers lack
}  // namespace

PauseWatch::PauseWatch(std::function<void(pid_t)> on_exit)
    : on_exit_(std::move(on_exit)), wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!wake_) throw Internal(errno_text("eventfd for the crius-pause watch", errno));
  thread_ = std::thread([this] { loop(); });
}

PauseWatch::~PauseWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake();
  thread_.join();
}

void PauseWatch::wake() {
  uint64_t one = 1;
  // Fails only with EAGAIN, when the counter is full: the loop has wakes
  // pending then and will look at the watch list anyway.
  if (::write(wake_.get(), &one, sizeof one) < 0) {
  }
}

bool PauseWatch::add(pid_t pid) {
  Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) {
    if (errno != ESRCH)
      log::error("cannot watch crius-pause", {{"pid", std::to_string(pid)}, {"error", errno_text("pidfd_open", errno)}});
    return false;
  }
  {
    std::lock_guard lock(mu_);
    pidfds_[pid] = std::move(fd);  // closes the pidfd of an earlier add()
  }
  wake();
  return true;
}

void PauseWatch::loop() {
  std::vector<pollfd> fds;
  std::vector<pid_t> pids;
  for (;;) {
    fds.assign(1, pollfd{wake_.get(), POLLIN, 0});
    pids.assign(1, 0);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      for (const auto& [pid, fd] : pidfds_) {
        fds.push_back({fd.get(), POLLIN, 0});
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
      // Drains the wakes; EAGAIN (nothing to drain) is all it can fail with.
      if (::read(wake_.get(), &n, sizeof n) < 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      const pid_t pid = pids[i];
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        auto it = pidfds_.find(pid);
        if (it == pidfds_.end() || it->second.get() != fds[i].fd) continue;
        // Reap it through its pidfd, which cannot name a reused PID; ECHILD
        // after a daemon restart, when init reaps it.
        siginfo_t info{};
        while (::waitid(static_cast<idtype_t>(kPidfd), static_cast<id_t>(it->second.get()), &info,
                        WEXITED | WNOHANG) < 0 &&
               errno == EINTR) {
        }
        pidfds_.erase(it);
      }
      on_exit_(pid);
    }
  }
}

}  // namespace crius::sandbox
