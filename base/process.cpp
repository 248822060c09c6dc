#include "base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/error.h"
#include "base/fd.h"
#include "base/spawn.h"
#include "base/wait.h"

namespace crius {

namespace {

// A write to a pipe whose reader has gone gives EPIPE here, not a SIGPIPE
// that would end the whole calling process (a hook may exit without reading
// its stdin; neither the tests nor crius-runtime ignore SIGPIPE). The signal
// is directed at the writing thread, so blocking it here is enough; one this
// write raised is consumed before the mask is restored.
ssize_t write_without_sigpipe(int fd, const char* data, size_t n) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE);
  const ssize_t w = ::write(fd, data, n);
  const int saved = errno;
  if (w < 0 && saved == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    while (::sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return w;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args, const std::vector<std::string>& env,
                          const std::string& input, std::chrono::milliseconds timeout, const std::string& program,
                          int netns_fd) {
  if (args.empty()) throw Internal("run_process: no program given");
  auto [in_r, in_w] = make_pipe("the stdin of a child process");
  auto [out_r, out_w] = make_pipe("the stdout of a child process");
  auto [err_r, err_w] = make_pipe("the stderr of a child process");

  // Its own process group, so that a timeout kills what it spawned too.
  SpawnOptions o;
  o.args = args;
  o.program = program;
  o.env = &env;
  o.fds = {{in_r.get(), 0}, {out_w.get(), 1}, {err_w.get(), 2}};
  o.new_group = true;
  o.netns_fd = netns_fd;
  const Spawned child = spawn(o);
  if (child.pid < 0) {
    ProcessResult failed;
    failed.exit_code = 127;  // as a shell says of a program it could not run
    failed.exec_errno = child.error;
    return failed;
  }
  const pid_t pid = child.pid;
  in_r.reset();
  out_w.reset();
  err_w.reset();
  ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);

  ProcessResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t written = 0;
  if (input.empty()) in_w.reset();
  while (out_r.get() >= 0 || err_r.get() >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    Fd* owners[3];
    for (Fd* f : {&out_r, &err_r}) {
      if (f->get() < 0) continue;
      fds[n] = {f->get(), POLLIN, 0};
      owners[n++] = f;
    }
    if (in_w.get() >= 0) {
      fds[n] = {in_w.get(), POLLOUT, 0};
      owners[n++] = &in_w;
    }
    int pr = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (owners[i] == &in_w) {
        ssize_t w = write_without_sigpipe(in_w.get(), input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) in_w.reset();
        if (written == input.size()) in_w.reset();
        continue;
      }
      char buf[8192];
      ssize_t got = ::read(owners[i]->get(), buf, sizeof buf);
      if (got > 0) {
        (owners[i] == &out_r ? r.out : r.err).append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EAGAIN) {
        owners[i]->reset();
      }
    }
  }
  in_w.reset();

  int status = 0;
  // Output is closed, so the process is exiting; the wait is bounded all the same.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (r.timed_out || !reap_child(pid, std::max(left, std::chrono::milliseconds(0)), &status)) {
    r.timed_out = true;
    kill_and_reap(pid, true, std::chrono::seconds(10));
    return r;
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return r;
}

bool reap_child(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  int st = 0;
  auto reaped = [&] {
    const pid_t w = ::waitpid(pid, &st, WNOHANG);
    return w == pid || (w < 0 && errno == ECHILD);
  };
  bool done = reaped();
  // Woken by its exit (a pidfd polls readable then) rather than by a timer,
  // which would add up to a pause to every plugin and hook.
  if (!done) {
    if (const Fd exits(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); exits) {
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{exits.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) >= 0 || errno != EINTR) break;
      }
      done = reaped();
    } else {
      done = wait_until(reaped, timeout);
    }
  }
  if (status) *status = st;
  return done;
}

bool kill_and_reap(pid_t pid, bool group, std::chrono::milliseconds timeout, int* status) {
  if (group) ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  return reap_child(pid, timeout, status);
}

}  // namespace crius
