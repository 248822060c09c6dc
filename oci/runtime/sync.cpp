#include "oci/runtime/sync.h"

#include <vector>

#include "base/fd.h"
#include "base/fd_passing.h"

namespace crius::oci::runtime::sync {

bool send(int fd, Type t, const std::string& payload, int passed_fd) {
  std::string msg(1, static_cast<char>(t));
  msg += payload;
  return send_with_fd(fd, msg.data(), msg.size(), passed_fd) >= 0;
}

bool receive(int fd, Type& t, std::string& payload, int* passed_fd) {
  std::vector<char> buf(64 * 1024);
  if (passed_fd) *passed_fd = -1;
  int got = -1;
  const ssize_t n = receive_with_fd(fd, buf.data(), buf.size(), &got);
  Fd received(got);  // closed here unless the caller wants it
  if (n <= 0) return false;
  t = static_cast<Type>(buf[0]);
  payload.assign(buf.data() + 1, static_cast<size_t>(n - 1));
  if (passed_fd) *passed_fd = received.release();
  return true;
}

}  // namespace crius::oci::runtime::sync
