// `run` and `exec` without --detach: the runtime stays the parent of the
// process, forwards signals to it, proxies its terminal and exits with its
// status.
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "oci/runtime/cli_internal.h"
#include "oci/runtime/console.h"

namespace crius::oci::runtime::cli {

ForwardedSignals::ForwardedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, &old_);
  fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_) {
    const int err = errno;
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
    throw_errno("signalfd", err);
  }
}

ForwardedSignals::~ForwardedSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }

ConsolePair make_console_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
  return {Fd(sv[0]), Fd(sv[1])};
}

std::unique_ptr<TerminalProxy> take_terminal(ConsolePair& p) {
  p.theirs.reset();  // the init has its own copy; EOF once it is gone
  return std::make_unique<TerminalProxy>(receive_fd(p.mine.get()));
}

int wait_in_foreground(pid_t pid, int sigfd, std::unique_ptr<TerminalProxy> tty) {
  int code = 255;
  for (bool done = false; !done;) {
    // Reap first: the process may already be gone.
    int status;
    pid_t r;
    while ((r = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (r == pid) {
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        done = true;
      }
    }
    if (done) break;
    if (tty) {
      if (!tty->pump(-1, sigfd)) tty.reset();
    } else {
      struct pollfd pf {sigfd, POLLIN, 0};
      ::poll(&pf, 1, -1);
    }
    signalfd_siginfo si;
    while (::read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGWINCH && tty) {
        winsize ws{};
        if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(tty->master(), TIOCSWINSZ, &ws);
      } else if (sig != SIGCHLD) {
        ::kill(pid, sig);
      }
    }
  }
  if (tty) tty->drain();
  return code;
}

}  // namespace crius::oci::runtime::cli
