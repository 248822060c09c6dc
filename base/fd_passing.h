// Passing a file descriptor over a unix socket (SCM_RIGHTS, unix(7)): the
// pty master to a console socket, the seccomp listener to the runtime, a
// container's stdio between the monitor and the daemon.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace crius {

// One sendmsg(2) of data (at least one byte is sent: an empty message goes
// as one NUL byte) with fd as SCM_RIGHTS when fd >= 0; MSG_NOSIGNAL, retried
// on EINTR. Returns the bytes sent, or -1 with errno set.
ssize_t send_with_fd(int sock, const void* data, size_t len, int fd);

// One recvmsg(2) into buf; the first fd that came along is stored in *fd
// (close-on-exec), or -1 when none did; any further fds are closed. Retried
// on EINTR. Returns the bytes received (0 at EOF), or -1 with errno set.
ssize_t receive_with_fd(int sock, void* buf, size_t len, int* fd);

}  // namespace crius
