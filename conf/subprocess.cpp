#include "conf/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "conf/error.h"

namespace crius {
namespace {

// A pipe end closed when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void make_pipe(Fd& r, Fd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw Internal(errno_text("creating a pipe for a child process", errno));
  r.fd = p[0];
  w.fd = p[1];
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args, const std::vector<std::string>& env,
                          const std::string& input, std::chrono::milliseconds timeout) {
  if (args.empty()) throw InvalidArgument("run_process: no program given");
  const std::string& path = args.front();
  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  make_pipe(in_r, in_w);
  make_pipe(out_r, out_w);
  make_pipe(err_r, err_w);

  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls are allowed (the daemon is multithreaded).
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw Internal(errno_text("starting " + path, errno));
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills what it spawned too
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(in_r.fd, 0);
    ::dup2(out_w.fd, 1);
    ::dup2(err_w.fd, 2);
    // Not every fd of the daemon is close-on-exec (Asio's listeners are not);
    // a plugin must not keep, say, the metrics port open after a restart.
    ::syscall(SYS_close_range, 3, ~0U, 0);
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  in_r.reset();
  out_w.reset();
  err_w.reset();
  ::fcntl(in_w.fd, F_SETFL, O_NONBLOCK);

  ProcessResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t written = 0;
  if (input.empty()) in_w.reset();
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    Fd* owners[3];
    for (Fd* f : {&out_r, &err_r}) {
      if (f->fd < 0) continue;
      fds[n] = {f->fd, POLLIN, 0};
      owners[n++] = f;
    }
    if (in_w.fd >= 0) {
      fds[n] = {in_w.fd, POLLOUT, 0};
      owners[n++] = &in_w;
    }
    int pr = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (owners[i] == &in_w) {
        ssize_t w = ::write(in_w.fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) in_w.reset();
        if (written == input.size()) in_w.reset();
        continue;
      }
      char buf[8192];
      ssize_t got = ::read(owners[i]->fd, buf, sizeof buf);
      if (got > 0) {
        (owners[i] == &out_r ? r.out : r.err).append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EAGAIN) {
        owners[i]->reset();
      }
    }
  }
  in_w.reset();

  int status = 0;
  if (r.timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return r;
  }
  // Output is closed; the process is exiting. Bound the wait all the same.
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return r;
    if (std::chrono::steady_clock::now() >= deadline) {
      r.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace crius
