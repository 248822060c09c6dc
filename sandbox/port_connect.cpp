#include "sandbox/port_connect.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/error.h"

namespace crius::sandbox {

namespace {

// -errno on failure.
int dial(int family, uint16_t port) {
  Fd s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return -errno;
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  int r;
  do r = ::connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len);
  while (r != 0 && errno == EINTR);
  if (r != 0) return -errno;
  return s.release();
}

}  // namespace

Fd connect_port(const std::string& netns_path, uint16_t port) {
  int result = -EINVAL;
  std::string step;
  // setns(CLONE_NEWNET) changes only the calling thread, so a thread of its
  // own joins the pod's namespace and ends with the connection made.
  std::thread t([&] {
    if (!netns_path.empty()) {
      Fd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns || ::setns(ns.get(), CLONE_NEWNET) != 0) {
        result = -errno;
        step = "join the network namespace " + netns_path;
        return;
      }
    }
    result = dial(AF_INET, port);
    if (result == -ECONNREFUSED || result == -ENETUNREACH || result == -EADDRNOTAVAIL) {
      const int v6 = dial(AF_INET6, port);
      if (v6 >= 0) result = v6;
    }
    if (result < 0) step = "connect to localhost:" + std::to_string(port);
  });
  t.join();
  if (result < 0) throw Unavailable(step + ": " + std::strerror(-result));
  return Fd(result);
}

}  // namespace crius::sandbox
