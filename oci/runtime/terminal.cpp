#include "oci/runtime/terminal.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "base/file.h"

namespace crius::oci::runtime {

TerminalProxy::TerminalProxy(Fd master) : master_(std::move(master)) {
  termios t{};
  if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &t) == 0) {
    saved_ = t;
    ::cfmakeraw(&t);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &t);
    winsize ws{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(master_.get(), TIOCSWINSZ, &ws);
  }
}

TerminalProxy::~TerminalProxy() {
  if (saved_) ::tcsetattr(STDIN_FILENO, TCSANOW, &*saved_);
}

bool TerminalProxy::pump(int timeout_ms, int wake) {
  struct pollfd p[3] = {{master_.get(), POLLIN, 0}, {wake, POLLIN, 0}, {stdin_open_ ? STDIN_FILENO : -1, POLLIN, 0}};
  int n = ::poll(p, 3, timeout_ms);
  if (n <= 0) return true;
  char buf[8192];
  // A copy that cannot be written (our stdout closed, the pty gone) is
  // dropped, as a terminal drops what nobody reads; the process goes on
  // and its exit ends the proxy.
  if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    ssize_t r = ::read(master_.get(), buf, sizeof buf);
    if (r <= 0 && !(r < 0 && errno == EINTR)) return false;
    if (r > 0) (void)write_all(STDOUT_FILENO, buf, static_cast<size_t>(r));
  }
  if (stdin_open_ && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t r = ::read(STDIN_FILENO, buf, sizeof buf);
    if (r > 0) (void)write_all(master_.get(), buf, static_cast<size_t>(r));
    else if (r == 0 || errno != EINTR) stdin_open_ = false;
  }
  return true;
}

void TerminalProxy::drain() {
  stdin_open_ = false;
  while (pump(0)) {
    struct pollfd p {master_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
  }
}

}  // namespace crius::oci::runtime
