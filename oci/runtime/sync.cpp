#include "oci/runtime/sync.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace crius::oci::runtime::sync {

ssize_t send_with_fd(int sock, const void* data, size_t len, int fd) {
  struct iovec iov {const_cast<void*>(data), len};
  struct msghdr mh {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n >= 0 || errno != EINTR) return n;
  }
}

bool send(int fd, Type t, const std::string& payload, int passed_fd) {
  std::string msg(1, static_cast<char>(t));
  msg += payload;
  return send_with_fd(fd, msg.data(), msg.size(), passed_fd) >= 0;
}

bool receive(int fd, Type& t, std::string& payload, int* passed_fd) {
  std::vector<char> buf(64 * 1024);
  if (passed_fd) *passed_fd = -1;
  for (;;) {
    struct iovec iov {buf.data(), buf.size()};
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(sizeof(int))) continue;
      int got;
      std::memcpy(&got, CMSG_DATA(c), sizeof(int));
      if (passed_fd && *passed_fd < 0) *passed_fd = got;
      else ::close(got);
    }
    t = static_cast<Type>(buf[0]);
    payload.assign(buf.data() + 1, static_cast<size_t>(n - 1));
    return true;
  }
}

}  // namespace crius::oci::runtime::sync
