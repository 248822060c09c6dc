#include "oci/runtime/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/fd_passing.h"

namespace crius::oci::runtime {

Fd connect_console_socket(const std::string& path) {
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("console socket " + path + ": socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw InvalidArgument("console socket path is too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("console socket " + path + ": connect");
  return s;
}

Fd receive_fd(int socket, std::string* name) {
  char data[4096];
  int fd = -1;
  const ssize_t n = receive_with_fd(socket, data, sizeof data, &fd);
  if (n < 0) throw_errno("console socket: recvmsg");
  Fd master(fd);
  if (!master) throw Internal("console socket: no file descriptor received");
  if (name) name->assign(data, static_cast<size_t>(n));
  return master;
}

int setup_console(int socket, const std::optional<ConsoleSize>& size, uid_t uid, std::string& what) {
  Fd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return what = "open /dev/ptmx", errno;
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) != 0) return what = "ioctl(TIOCSPTLCK)", errno;
  // The peer is opened through the master, never by a path the container
  // could have swapped.
  Fd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return what = "ioctl(TIOCGPTPEER)", errno;
  int ptn = 0;
  if (::ioctl(master.get(), TIOCGPTN, &ptn) != 0) return what = "ioctl(TIOCGPTN)", errno;
  if (::fchown(slave.get(), uid, static_cast<gid_t>(-1)) != 0 && errno != EINVAL && errno != EPERM)
    return what = "chown /dev/pts/" + std::to_string(ptn), errno;
  termios t{};
  if (::tcgetattr(slave.get(), &t) == 0) {
    // Output as the program wrote it, without \n → \r\n (runc does the same).
    t.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
    ::tcsetattr(slave.get(), TCSANOW, &t);
  }
  if (size && size->height && size->width) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    ::ioctl(slave.get(), TIOCSWINSZ, &ws);
  }
  const std::string name = "/dev/pts/" + std::to_string(ptn);
  if (send_with_fd(socket, name.data(), name.size(), master.get()) < 0)
    return what = "send pty master to the console socket", errno;
  if (::setsid() < 0) return what = "setsid", errno;
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) return what = "ioctl(TIOCSCTTY)", errno;
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave.get(), fd) < 0) return what = "dup2 pty to stdio", errno;
  return 0;
}

}  // namespace crius::oci::runtime
