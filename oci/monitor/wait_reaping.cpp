#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/fd.h"
#include "oci/monitor/runtime_handler.h"

namespace crius::oci::monitor {

bool wait_reaping(pid_t target, int timeout_ms, const Reaped& reaped, int* target_status) {
  using Clock = std::chrono::steady_clock;
  // Opened before the first sweep: a target reaped by it is still known.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, target, 0)));
  const bool no_such_process = !pidfd && errno == ESRCH;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped) reaped(pid, status);
      if (pid == target) {
        if (target_status) *target_status = status;
        return true;
      }
    }
    if (!pidfd) return no_such_process;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    // Woken at once when target exits; otherwise a new sweep every 10 ms
    // for the zombies that keep it from exiting.
    struct pollfd p = {pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left < 10 ? left : 10)) > 0) {
      pid = ::waitpid(target, &status, WNOHANG);
      if (pid == target) {
        if (reaped) reaped(pid, status);
        if (target_status) *target_status = status;
        return true;
      }
      if (pid < 0 && errno == ECHILD) return true;  // exited, not our child
    }
  }
}

}  // namespace crius::oci::monitor
