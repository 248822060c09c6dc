#include "oci/runtime/sync.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

namespace crius::oci::runtime::sync {

bool send(int fd, Type t, const std::string& payload) {
  std::string msg(1, static_cast<char>(t));
  msg += payload;
  for (;;) {
    ssize_t n = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
    if (n >= 0) return true;
    if (errno != EINTR) return false;
  }
}

bool receive(int fd, Type& t, std::string& payload) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    t = static_cast<Type>(buf[0]);
    payload.assign(buf.data() + 1, static_cast<size_t>(n - 1));
    return true;
  }
}

}  // namespace crius::oci::runtime::sync
