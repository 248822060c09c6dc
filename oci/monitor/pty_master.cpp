#include <cerrno>

#include "base/error.h"
#include "base/fd_passing.h"
#include "oci/monitor/runtime_handler.h"

namespace crius::oci::monitor {

Fd receive_pty_master(int sock, const std::string& id) {
  const std::string what = "receive the pty master of " + id;
  char byte;
  int fd = -1;
  if (receive_with_fd(sock, &byte, 1, &fd) < 0) throw_errno(what);
  if (fd < 0) throw Internal(what + ": no file descriptor in the message");
  return Fd(fd);
}

}  // namespace crius::oci::monitor
